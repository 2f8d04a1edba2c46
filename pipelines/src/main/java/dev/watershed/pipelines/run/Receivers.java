package dev.watershed.pipelines.run;

import dev.watershed.pipelines.config.Receiver;
import dev.watershed.pipelines.config.Registry;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.Spec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What receives the pushed sources of a spec (webhooks): started before a streaming or micro-batch
 * run reads them, stopped after it ({@link SourceType#receive}).
 */
public final class Receivers implements AutoCloseable {
  private final List<Receiver> started;

  private Receivers(List<Receiver> started) {
    this.started = started;
  }

  /** Starts every receiver {@code spec}'s sources need (none when no source is pushed to). */
  public static Receivers start(Spec spec, Consumer<String> log) throws Exception {
    List<Receiver> started = new ArrayList<>();
    Receivers receivers = new Receivers(started);
    try {
      for (SourceType type : Registry.sources().values()) {
        List<SourceConfig> sources =
            spec.sources().values().stream().filter(s -> s.type().equals(type.name())).toList();
        if (!sources.isEmpty()) {
          Receiver receiver = type.receive(sources, log);
          if (receiver != null) {
            started.add(receiver);
          }
        }
      }
    } catch (Exception e) {
      receivers.close();
      throw e;
    }
    return receivers;
  }

  /** Requests every receiver received so far. */
  public long requests() {
    return started.stream().mapToLong(Receiver::requests).sum();
  }

  /** True when the spec has a source that is pushed to. */
  public boolean any() {
    return !started.isEmpty();
  }

  @Override
  public void close() throws Exception {
    Exception first = null;
    for (Receiver receiver : started) {
      try {
        receiver.close();
      } catch (Exception e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
