package dev.watershed.pipelines.config;

import dev.watershed.io.WriteMode;
import java.util.List;

/**
 * A kind of sink ({@code type: duckdb}, {@code type: parquet}, ...): the keys its block takes and
 * how to parse them. Found by {@link Registry} through {@link java.util.ServiceLoader}; adding a
 * sink type is one class implementing this (and its {@link SinkConfig}) plus a line in {@code
 * META-INF/services/dev.watershed.pipelines.config.SinkType}.
 */
public interface SinkType {
  /** The value of {@code type:} that selects it. */
  String name();

  /** One line on where it writes, for the JSON Schema. */
  String description();

  /** The keys of its block besides {@code type}, {@code write} and {@code models}. */
  List<Key> keys();

  /** How it writes when the spec does not say. */
  WriteMode defaultMode();

  /** The write modes it supports. */
  List<WriteMode> modes();

  /** Why {@code mode} is refused, naming what to write instead; null when it is supported. */
  default String refusal(WriteMode mode) {
    if (modes().contains(mode)) {
      return null;
    }
    return (mode == WriteMode.MERGE ? "merge needs a table sink (duckdb, postgres, mariadb); " : "")
        + name()
        + " sinks support "
        + String.join(" and ", modes().stream().map(WriteMode::specName).toList());
  }

  /**
   * Reads its keys from {@code block}; problems go to the block, never thrown. {@code basics} has
   * the write mode already checked against {@link #modes()}.
   */
  SinkConfig parse(SinkBasics basics, YamlObject block, ParseContext context);
}
