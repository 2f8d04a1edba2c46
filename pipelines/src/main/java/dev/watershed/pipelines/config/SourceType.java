package dev.watershed.pipelines.config;

import java.util.List;
import java.util.function.Consumer;

/**
 * A kind of source ({@code type: csv}, {@code type: jdbc}, ...): the keys its block takes and how
 * to parse them. Implementations are found by {@link Registry} through {@link
 * java.util.ServiceLoader}; adding a source type is one class implementing this (and its {@link
 * SourceConfig}) plus a line in {@code
 * META-INF/services/dev.watershed.pipelines.config.SourceType}.
 */
public interface SourceType {
  /** The value of {@code type:} that selects it. */
  String name();

  /** One line on what it reads, for the JSON Schema. */
  String description();

  /** The keys of its block besides {@code type}, {@code schema} and {@code drift}. */
  List<Key> keys();

  /**
   * Reads its keys from {@code block}; problems go to the block (reported with path and line),
   * never thrown. The result may be partial when there were problems: the spec is refused then.
   */
  SourceConfig parse(SourceBasics basics, YamlObject block, ParseContext context);

  /**
   * For types whose sources are pushed to rather than read (webhooks): starts what receives for
   * {@code sources} (this type's sources of one spec), running until closed. Null for types that
   * read. {@code log} takes lines for the operator.
   */
  default Receiver receive(List<SourceConfig> sources, Consumer<String> log) throws Exception {
    return null;
  }
}
