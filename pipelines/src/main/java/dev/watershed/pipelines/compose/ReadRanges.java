package dev.watershed.pipelines.compose;

import dev.watershed.io.jdbc.RunState;
import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.TableSink;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
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

  /**
   * The range of every source read in part (Kafka topics, incremental tables), by source name: from
   * the mark the tables it feeds committed (or where a first run starts) to where it stands now.
   */
  public static Map<String, ReadRange> plan(Spec spec) throws Exception {
    Map<String, ReadRange> ranges = new LinkedHashMap<>();
    for (SourceConfig source : spec.sources().values()) {
      if (!source.readsInPart()) {
        continue;
      }
      String from = storedMark(spec, source);
      if (from == null) {
        from = source.firstMark();
      }
      String to = source.currentMark();
      ranges.put(source.name(), new ReadRange(from, to == null ? from : to));
    }
    return ranges;
  }

  /** The mark every table fed by {@code source} holds, or null. */
  private static String storedMark(Spec spec, SourceConfig source) throws SQLException {
    Set<String> marks = new HashSet<>();
    boolean anyTable = false;
    for (ConformSpec entry : spec.conform()) {
      if (!entry.from().equals(source.name())) {
        continue;
      }
      for (TableSink sink : spec.tableSinksOf(entry.to())) {
        anyTable = true;
        marks.add(
            RunState.read(sink.endpoint(spec), spec.name(), sink.tableOf(entry.to()))
                .get(source.name()));
      }
    }
    return anyTable && marks.size() == 1 ? marks.iterator().next() : null;
  }

  /**
   * True when every source of {@code ranges} finds its mark in its records ({@link
   * SourceConfig#markField}) and the run that read {@code ranges} committed the mark it started
   * from: nothing newer than what the last run saw arrived.
   */
  public static boolean foundMarksUnmoved(Spec spec, Map<String, ReadRange> ranges)
      throws SQLException {
    for (Map.Entry<String, ReadRange> range : ranges.entrySet()) {
      SourceConfig source = spec.sources().get(range.getKey());
      if (source.markField() == null
          || !Objects.equals(storedMark(spec, source), range.getValue().from())) {
        return false;
      }
    }
    return !ranges.isEmpty();
  }

  /** Records the ranges would read: for Kafka the offsets between marks; -1 when not countable. */
  public static long pending(Map<String, ReadRange> ranges, Spec spec) {
    long pending = 0;
    for (Map.Entry<String, ReadRange> range : ranges.entrySet()) {
      long records = spec.sources().get(range.getKey()).pending(range.getValue());
      if (records < 0) {
        return -1;
      }
      pending += records;
    }
    return pending;
  }
}
