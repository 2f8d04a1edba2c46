package dev.watershed.pipelines.compose;

import dev.watershed.io.jdbc.IncrementalRange;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.RunState;
import dev.watershed.io.kafka.KafkaOffsets;
import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.SinkSpec;
import dev.watershed.pipelines.config.SourceSpec;
import dev.watershed.pipelines.config.Spec;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Plans where a run reads Kafka topics and incremental JDBC sources: from the mark the last
 * committed load stored in each table sink ({@link RunState}), to the source's end now.
 *
 * <p>A source whose models go to several tables starts from their common mark; when the marks
 * differ (a table added later, a load that failed in one database but not another) it starts from
 * the beginning, which merges absorb. Without any table sink there is nowhere to keep a mark and
 * every run reads the whole source.
 */
public final class ReadRanges {
  private ReadRanges() {}

  /** The range of every Kafka and incremental JDBC source of {@code spec}, by source name. */
  public static Map<String, RunContext.ReadRange> plan(Spec spec) throws SQLException {
    Map<String, RunContext.ReadRange> ranges = new LinkedHashMap<>();
    for (SourceSpec source : spec.sources().values()) {
      if (source.kafka() != null) {
        String from = storedMark(spec, source);
        Map<Integer, Long> start =
            from != null
                ? KafkaOffsets.parse(from)
                : KafkaOffsets.beginning(
                    source.kafka().bootstrapServers(),
                    source.kafka().topic(),
                    source.kafka().timeout());
        Map<Integer, Long> end =
            KafkaOffsets.end(
                source.kafka().bootstrapServers(),
                source.kafka().topic(),
                source.kafka().timeout());
        ranges.put(
            source.name(),
            new RunContext.ReadRange(KafkaOffsets.format(start), KafkaOffsets.format(end)));
      } else if (source.incremental() != null) {
        JdbcEndpoint endpoint = Composer.endpoint(source.url(), source.user(), source.password());
        String to =
            IncrementalRange.currentMark(
                endpoint,
                source.table(),
                source.query(),
                source.incremental().column(),
                source.incremental().tieBreak());
        String from = storedMark(spec, source);
        ranges.put(source.name(), new RunContext.ReadRange(from, to == null ? from : to));
      }
    }
    return ranges;
  }

  /** The mark every table fed by {@code source} holds, or null. */
  private static String storedMark(Spec spec, SourceSpec source) throws SQLException {
    Set<String> marks = new HashSet<>();
    boolean anyTable = false;
    for (ConformSpec entry : spec.conform()) {
      if (!entry.from().equals(source.name())) {
        continue;
      }
      for (SinkSpec sink : spec.sinks().values()) {
        if (!sink.isTable() || !spec.modelsOf(sink).contains(entry.to())) {
          continue;
        }
        anyTable = true;
        String table = Composer.tableOf(sink, spec.models().get(entry.to()));
        marks.add(
            RunState.read(Composer.tableEndpoint(spec, sink), spec.name(), table)
                .get(source.name()));
      }
    }
    return anyTable && marks.size() == 1 ? marks.iterator().next() : null;
  }

  /** Records the ranges would read: for Kafka the offsets between marks; -1 when not countable. */
  public static long pending(Map<String, RunContext.ReadRange> ranges, Spec spec) {
    long pending = 0;
    for (Map.Entry<String, RunContext.ReadRange> range : ranges.entrySet()) {
      SourceSpec source = spec.sources().get(range.getKey());
      if (source.kafka() == null) {
        if (range.getValue().to() != null
            && !range.getValue().to().equals(range.getValue().from())) {
          return -1;
        }
        continue;
      }
      Map<Integer, Long> from = KafkaOffsets.parse(range.getValue().from());
      for (Map.Entry<Integer, Long> end : KafkaOffsets.parse(range.getValue().to()).entrySet()) {
        pending += end.getValue() - from.getOrDefault(end.getKey(), 0L);
      }
    }
    return pending;
  }
}
