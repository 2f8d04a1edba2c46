package dev.watershed.transforms.dedupe;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.records.RawRecords;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableBiFunction;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * {@link Dedupe#withPreferredSources}: per key and preferred field, the value of the first listed
 * source that has one (ties within a source broken by the keep rule), written over the surviving
 * row's.
 */
final class SourcePreference {
  private SourcePreference() {}

  static PCollection<Row> apply(
      PCollection<Row> input,
      PCollection<Row> winners,
      List<String> key,
      Map<String, List<String>> preferred,
      SerializableBiFunction<Row, Row, Row> chooser,
      Coder<Row> rows) {
    Schema schema = input.getSchema();
    KvCoder<String, Row> keyed = KvCoder.of(StringUtf8Coder.of(), rows);
    PCollection<KV<String, HashMap<String, Row>>> picks =
        input
            .apply("PreferredCandidates", ParDo.of(new CandidateFn(key, preferred)))
            .setCoder(keyed)
            .apply("PickPreferred", Combine.perKey(new PickFn(preferred, chooser)))
            .setCoder(
                KvCoder.of(
                    StringUtf8Coder.of(),
                    (Coder<HashMap<String, Row>>)
                        (Coder<?>) MapCoder.of(StringUtf8Coder.of(), rows)));
    PCollection<KV<String, Row>> keyedWinners =
        winners.apply("KeyWinners", ParDo.of(new KeyFn(key))).setCoder(keyed);
    TupleTag<Row> winner = new TupleTag<>("winner");
    TupleTag<HashMap<String, Row>> pick = new TupleTag<>("pick");
    return KeyedPCollectionTuple.of(winner, keyedWinners)
        .and(pick, picks)
        .apply("JoinPreferred", CoGroupByKey.create())
        .apply("TakePreferred", ParDo.of(new TakeFn(winner, pick, preferred.keySet())))
        .setRowSchema(schema);
  }

  /** Rows of a listed source holding a value of some preferred field, by key. */
  private static final class CandidateFn extends DoFn<Row, KV<String, Row>> {
    private final List<String> key;
    private final Map<String, List<String>> preferred;

    CandidateFn(List<String> key, Map<String, List<String>> preferred) {
      this.key = key;
      this.preferred = preferred;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      String source = row.getString(RawRecords.SOURCE);
      for (Map.Entry<String, List<String>> field : preferred.entrySet()) {
        if (field.getValue().contains(source) && row.getValue(field.getKey()) != null) {
          out.output(KV.of(CanonicalModel.keyText(row, key), row));
          return;
        }
      }
    }
  }

  /** Per preferred field, the best row: the lowest source rank, then the keep rule's choice. */
  private static final class PickFn
      extends Combine.CombineFn<Row, HashMap<String, Row>, HashMap<String, Row>> {
    private final Map<String, List<String>> preferred;
    private final SerializableBiFunction<Row, Row, Row> chooser;

    PickFn(Map<String, List<String>> preferred, SerializableBiFunction<Row, Row, Row> chooser) {
      this.preferred = preferred;
      this.chooser = chooser;
    }

    @Override
    public HashMap<String, Row> createAccumulator() {
      return new HashMap<>();
    }

    @Override
    public HashMap<String, Row> addInput(HashMap<String, Row> best, Row row) {
      for (Map.Entry<String, List<String>> field : preferred.entrySet()) {
        offer(best, field.getKey(), field.getValue(), row);
      }
      return best;
    }

    private void offer(HashMap<String, Row> best, String field, List<String> sources, Row row) {
      int rank = sources.indexOf(row.getString(RawRecords.SOURCE));
      if (rank < 0 || row.getValue(field) == null) {
        return;
      }
      Row current = best.get(field);
      if (current == null) {
        best.put(field, row);
        return;
      }
      int currentRank = sources.indexOf(current.getString(RawRecords.SOURCE));
      if (rank < currentRank || (rank == currentRank && chooser.apply(current, row) == row)) {
        best.put(field, row);
      }
    }

    @Override
    public HashMap<String, Row> mergeAccumulators(Iterable<HashMap<String, Row>> accumulators) {
      HashMap<String, Row> merged = new HashMap<>();
      for (HashMap<String, Row> accumulator : accumulators) {
        for (Map.Entry<String, Row> pick : accumulator.entrySet()) {
          offer(merged, pick.getKey(), preferred.get(pick.getKey()), pick.getValue());
        }
      }
      return merged;
    }

    @Override
    public HashMap<String, Row> extractOutput(HashMap<String, Row> best) {
      return best;
    }

    @Override
    public Coder<HashMap<String, Row>> getAccumulatorCoder(
        org.apache.beam.sdk.coders.CoderRegistry registry, Coder<Row> input) {
      return (Coder<HashMap<String, Row>>) (Coder<?>) MapCoder.of(StringUtf8Coder.of(), input);
    }
  }

  private static final class KeyFn extends DoFn<Row, KV<String, Row>> {
    private final List<String> key;

    KeyFn(List<String> key) {
      this.key = key;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      out.output(KV.of(CanonicalModel.keyText(row, key), row));
    }
  }

  /** The surviving row with each preferred field's picked value written over its own. */
  private static final class TakeFn extends DoFn<KV<String, CoGbkResult>, Row> {
    private final TupleTag<Row> winner;
    private final TupleTag<HashMap<String, Row>> pick;
    private final List<String> fields;

    TakeFn(TupleTag<Row> winner, TupleTag<HashMap<String, Row>> pick, Iterable<String> fields) {
      this.winner = winner;
      this.pick = pick;
      this.fields = new ArrayList<>();
      fields.forEach(this.fields::add);
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> group, OutputReceiver<Row> out) {
      HashMap<String, Row> picks = group.getValue().getOnly(pick, new HashMap<>());
      for (Row row : group.getValue().getAll(winner)) {
        if (picks.isEmpty()) {
          out.output(row);
          continue;
        }
        List<Object> values = new ArrayList<>(row.getValues());
        for (String field : fields) {
          Row picked = picks.get(field);
          if (picked != null) {
            values.set(row.getSchema().indexOf(field), picked.getValue(field));
          }
        }
        out.output(Row.withSchema(row.getSchema()).attachValues(values));
      }
    }
  }
}
