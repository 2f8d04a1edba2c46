package dev.watershed.transforms.quality;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.quality.QualityRule.OnFailure;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The workers of {@link Quality}: row rules judged on each row ({@link RowRulesFn}), unique and
 * relationships rules that need other rows ({@link UniqueFn}, {@link UniqueWithStoredFn}, {@link
 * RelationshipFn}), and dataset rules combined over all rows ({@link DatasetFn}, {@link
 * DuplicateRateFn}).
 */
final class QualityFns {
  private QualityFns() {}

  /** A failed check for each row rule set to Quality.fail the run that some rows failed. */
  static final class FailedRowRulesFn extends DoFn<KV<String, Long>, Row> {
    private final String model;

    FailedRowRulesFn(String model) {
      this.model = model;
    }

    @ProcessElement
    public void process(@Element KV<String, Long> failed, OutputReceiver<Row> out) {
      if (!failed.getKey().isEmpty()) {
        out.output(
            Quality.check(
                model,
                failed.getKey(),
                OnFailure.FAIL,
                false,
                String.valueOf(failed.getValue()),
                failed.getValue() + " rows failed"));
      }
    }
  }

  static final class RowRulesFn extends DoFn<Row, Row> {
    private final String model;
    private final List<QualityRule> rules;

    RowRulesFn(String model, List<QualityRule> rules) {
      this.model = model;
      this.rules = rules;
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      for (QualityRule rule : rules) {
        String detail = ((QualityRule.RowCheck) rule).check(row);
        if (detail != null && !Quality.fail(model, rule, row, detail, out)) {
          return;
        }
      }
      out.get(Quality.ROWS).output(row);
    }
  }

  /** Keys rows by a column's text; null values get keys of their own, so they never collide. */
  static final class KeyByFn extends DoFn<Row, KV<String, Row>> {
    private final String column;

    KeyByFn(String column) {
      this.column = column;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      Object value = row.getValue(column);
      out.output(
          KV.of(
              value == null ? Quality.NULL_KEY + UUID.randomUUID() : QualityRule.text(value), row));
    }
  }

  static final class UniqueFn extends DoFn<KV<String, Iterable<Row>>, Row> {
    private final String model;
    private final QualityRule rule;

    UniqueFn(String model, QualityRule rule) {
      this.model = model;
      this.rule = rule;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<Row>> group, MultiOutputReceiver out) {
      List<Row> rows = new ArrayList<>();
      group.getValue().forEach(rows::add);
      for (Row row : rows) {
        if (rows.size() == 1
            || Quality.fail(
                model,
                rule,
                row,
                rule.column() + " '" + group.getKey() + "' occurs in " + rows.size() + " rows",
                out)) {
          out.get(Quality.ROWS).output(row);
        }
      }
    }
  }

  /** Unique within the run, and against the keys already holding the value in the destination. */
  static final class UniqueWithStoredFn extends DoFn<KV<String, CoGbkResult>, Row> {
    private final String model;
    private final QualityRule rule;
    private final List<String> key;
    private final TupleTag<Row> rows;
    private final TupleTag<String> keys;

    UniqueWithStoredFn(
        String model,
        QualityRule rule,
        List<String> key,
        TupleTag<Row> rows,
        TupleTag<String> keys) {
      this.model = model;
      this.rule = rule;
      this.key = key;
      this.rows = rows;
      this.keys = keys;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> joined, MultiOutputReceiver out) {
      List<Row> group = new ArrayList<>();
      joined.getValue().getAll(rows).forEach(group::add);
      List<String> stored = new ArrayList<>();
      joined.getValue().getAll(keys).forEach(stored::add);
      for (Row row : group) {
        String mine = CanonicalModel.keyText(row, key);
        String other = stored.stream().filter(k -> !k.equals(mine)).findFirst().orElse(null);
        String detail = null;
        if (group.size() > 1) {
          detail = rule.column() + " '" + joined.getKey() + "' occurs in " + group.size() + " rows";
        } else if (other != null) {
          detail =
              rule.column()
                  + " '"
                  + joined.getKey()
                  + "' already belongs to "
                  + String.join(",", key)
                  + " "
                  + other.replace('\u0001', ',')
                  + " in the destination";
        }
        if (detail == null || Quality.fail(model, rule, row, detail, out)) {
          out.get(Quality.ROWS).output(row);
        }
      }
    }
  }

  static final class RelationshipFn extends DoFn<KV<String, CoGbkResult>, Row> {
    private final String model;
    private final QualityRule rule;
    private final TupleTag<Row> rows;
    private final TupleTag<Integer> known;

    RelationshipFn(String model, QualityRule rule, TupleTag<Row> rows, TupleTag<Integer> known) {
      this.model = model;
      this.rule = rule;
      this.rows = rows;
      this.known = known;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> joined, MultiOutputReceiver out) {
      boolean exists =
          joined.getKey().startsWith(Quality.NULL_KEY)
              || joined.getValue().getAll(known).iterator().hasNext();
      for (Row row : joined.getValue().getAll(rows)) {
        if (exists
            || Quality.fail(
                model,
                rule,
                row,
                rule.column()
                    + " '"
                    + joined.getKey()
                    + "' is not a "
                    + ((QualityRule.Relationships) rule).referenceModel()
                    + "."
                    + ((QualityRule.Relationships) rule).referenceField(),
                out)) {
          out.get(Quality.ROWS).output(row);
        }
      }
    }
  }

  /** Row count, null count and newest value of one column, in one pass. */
  static final class Stats implements Serializable {
    long rows;
    long nulls;
    Comparable<?> newest;
  }

  static final class DatasetFn extends Combine.CombineFn<Row, Stats, Row> {
    private final String model;
    private final QualityRule rule;
    private final Instant now;
    private final Long lastRunRows;
    private final Instant heldNewest;

    DatasetFn(String model, QualityRule rule, Instant now, Long lastRunRows, Instant heldNewest) {
      this.heldNewest = heldNewest;
      this.model = model;
      this.rule = rule;
      this.now = now;
      this.lastRunRows = lastRunRows;
    }

    @Override
    public Stats createAccumulator() {
      return new Stats();
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Stats addInput(Stats stats, Row row) {
      stats.rows++;
      if (rule.column() != null) {
        Object value = row.getValue(rule.column());
        if (value == null) {
          stats.nulls++;
        } else if (value instanceof Comparable c
            && (stats.newest == null || c.compareTo(stats.newest) > 0)) {
          stats.newest = c;
        }
      }
      return stats;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Stats mergeAccumulators(Iterable<Stats> all) {
      Stats merged = new Stats();
      for (Stats s : all) {
        merged.rows += s.rows;
        merged.nulls += s.nulls;
        if (s.newest != null
            && (merged.newest == null || ((Comparable) s.newest).compareTo(merged.newest) > 0)) {
          merged.newest = s.newest;
        }
      }
      return merged;
    }

    @Override
    public Row extractOutput(Stats stats) {
      switch (rule.kind()) {
        case ROW_COUNT:
          QualityRule.RowCount count = (QualityRule.RowCount) rule;
          Long min = count.minRows();
          Long max = count.maxRows();
          if (min != null && stats.rows < min) {
            return result(false, stats.rows, stats.rows + " rows, fewer than the minimum " + min);
          }
          if (max != null && stats.rows > max) {
            return result(false, stats.rows, stats.rows + " rows, more than the maximum " + max);
          }
          Double ratio = count.minRatioOfLastRun();
          if (ratio != null && lastRunRows != null && stats.rows < ratio * lastRunRows) {
            return result(
                false,
                stats.rows,
                stats.rows + " rows, below " + ratio + " of the last run's " + lastRunRows);
          }
          return result(
              true,
              stats.rows,
              stats.rows
                  + " rows"
                  + (ratio != null && lastRunRows != null
                      ? " (last run " + lastRunRows + ")"
                      : ""));
        case FRESHNESS:
          Duration within = ((QualityRule.Freshness) rule).within();
          Instant read =
              stats.newest == null
                  ? null
                  : stats.newest instanceof LocalDate d
                      ? d.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant()
                      : (Instant) stats.newest;
          // What the destination already holds counts too: a run with nothing newer is as fresh.
          boolean held = heldNewest != null && (read == null || heldNewest.isAfter(read));
          if (read == null && !held) {
            return result(false, "none", "no " + rule.column() + " value to judge freshness by");
          }
          Instant newest = held ? heldNewest : read;
          String shown = held ? heldNewest.toString() : stats.newest.toString();
          boolean fresh = !newest.isBefore(now.minus(within));
          return result(
              fresh,
              shown,
              "newest "
                  + rule.column()
                  + " "
                  + shown
                  + (held
                      ? " (held by the warehouse; this run read "
                          + (read == null ? "none" : "none newer")
                          + ")"
                      : "")
                  + (fresh ? " is within " : " is older than ")
                  + within
                  + " before "
                  + now);
        case NULL_RATE:
          double maxRate = ((QualityRule.NullRate) rule).max();
          double rate = stats.rows == 0 ? 0 : (double) stats.nulls / stats.rows;
          return result(
              rate <= maxRate,
              String.format(Locale.ROOT, "%.4f", rate),
              stats.nulls
                  + " of "
                  + stats.rows
                  + " rows have no "
                  + rule.column()
                  + " (max "
                  + maxRate
                  + ")");
        default:
          throw new IllegalStateException("not a dataset rule: " + rule);
      }
    }

    private Row result(boolean passed, Object observed, String detail) {
      return Quality.check(
          model, rule.name(), rule.onFailure(), passed, String.valueOf(observed), detail);
    }

    @Override
    public Coder<Stats> getAccumulatorCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      // One small accumulator per check, never on a per-row path.
      return SerializableCoder.of(Stats.class);
    }

    @Override
    public Coder<Row> getDefaultOutputCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      return RowCoder.of(Quality.CHECK);
    }
  }

  static final class DuplicateRateFn extends Combine.CombineFn<KV<Long, Long>, long[], Row> {
    private final String model;
    private final QualityRule rule;

    DuplicateRateFn(String model, QualityRule rule) {
      this.model = model;
      this.rule = rule;
    }

    @Override
    public long[] createAccumulator() {
      return new long[2];
    }

    @Override
    public long[] addInput(long[] acc, KV<Long, Long> repeats) {
      acc[0] += repeats.getKey();
      acc[1] += repeats.getValue();
      return acc;
    }

    @Override
    public long[] mergeAccumulators(Iterable<long[]> all) {
      long[] merged = new long[2];
      for (long[] a : all) {
        merged[0] += a[0];
        merged[1] += a[1];
      }
      return merged;
    }

    @Override
    public Row extractOutput(long[] acc) {
      double rate = acc[1] == 0 ? 0 : (double) acc[0] / acc[1];
      return Quality.check(
          model,
          rule.name(),
          rule.onFailure(),
          rate <= ((QualityRule.DuplicateRate) rule).max(),
          String.format(Locale.ROOT, "%.4f", rate),
          acc[0]
              + " of "
              + acc[1]
              + " "
              + rule.column()
              + " values repeat an earlier one (max "
              + ((QualityRule.DuplicateRate) rule).max()
              + ")");
    }

    @Override
    public Coder<long[]> getAccumulatorCoder(
        CoderRegistry registry, Coder<KV<Long, Long>> inputCoder) {
      return SerializableCoder.of(long[].class);
    }

    @Override
    public Coder<Row> getDefaultOutputCoder(
        CoderRegistry registry, Coder<KV<Long, Long>> inputCoder) {
      return RowCoder.of(Quality.CHECK);
    }
  }
}
