package dev.watershed.transforms.identity;

import dev.watershed.transforms.metrics.RunCounters;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * The records identity resolution must look at again when a run brings only new and changed
 * records: those records, and every earlier record of a cluster they may touch.
 *
 * <p>An earlier cluster is touched when one of its records shares a blocking-key value with an
 * arriving record (a possible match), or when an arriving record belonged to it (a changed record
 * may leave it). Touched clusters come back whole, so resolving the result with {@link
 * ResolveIdentities} and {@link GoldenRecords} decides merges, moves and splits exactly as a run
 * over all records would, while clusters no arriving record can reach are neither compared nor
 * rewritten. An arriving record replaces its earlier version.
 *
 * <p>Inputs besides the arriving records: the earlier records (rows of the same schema, e.g. read
 * back from the destination) and the earlier crosswalk as {@code KV(record id, golden_id|...)}.
 */
public final class AffectedRecords extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final String idField;
  private final List<BlockingKey> blocking;
  private final int maxBlockSize;
  private final PCollection<Row> earlier;
  private final PCollection<KV<String, String>> crosswalk;

  private AffectedRecords(
      String idField,
      List<BlockingKey> blocking,
      int maxBlockSize,
      PCollection<Row> earlier,
      PCollection<KV<String, String>> crosswalk) {
    this.idField = idField;
    this.blocking = List.copyOf(blocking);
    this.maxBlockSize = maxBlockSize;
    this.earlier = earlier;
    this.crosswalk = crosswalk;
  }

  /**
   * Arriving records identified by {@code idField}, to be resolved with these blocking keys against
   * {@code earlier} records whose golden ids {@code crosswalk} holds.
   */
  public static AffectedRecords of(
      String idField,
      List<BlockingKey> blocking,
      PCollection<Row> earlier,
      PCollection<KV<String, String>> crosswalk) {
    return new AffectedRecords(
        idField, blocking, ResolveIdentities.DEFAULT_MAX_BLOCK, earlier, crosswalk);
  }

  /** Blocks larger than this are not compared (as in {@link ResolveIdentities}), so not touched. */
  public AffectedRecords withMaxBlockSize(int records) {
    return new AffectedRecords(idField, blocking, records, earlier, crosswalk);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("id", idField));
    builder.add(DisplayData.item("blocking", blocking.toString()));
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> arriving) {
    KvCoder<String, String> strings = KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of());
    KvCoder<String, Row> keyedRows = KvCoder.of(StringUtf8Coder.of(), arriving.getCoder());

    // 1. Earlier records sharing a block with an arriving one.
    TupleTag<String> arrivingInBlock = new TupleTag<>("arriving");
    TupleTag<String> earlierInBlock = new TupleTag<>("earlier");
    PCollection<KV<String, String>> touched =
        KeyedPCollectionTuple.of(
                arrivingInBlock,
                arriving
                    .apply("ArrivingBlocks", ParDo.of(new BlockValuesFn(idField, blocking, false)))
                    .setCoder(strings))
            .and(
                earlierInBlock,
                earlier
                    .apply("EarlierBlocks", ParDo.of(new BlockValuesFn(idField, blocking, true)))
                    .setCoder(strings))
            .apply("JoinBlocks", CoGroupByKey.create())
            .apply(
                "Touched", ParDo.of(new TouchedFn(arrivingInBlock, earlierInBlock, maxBlockSize)))
            .setCoder(strings);

    // 2. Per record id: the clusters to open again, and each earlier record keyed by its cluster.
    TupleTag<String> arrivingId = new TupleTag<>("arrivingId");
    TupleTag<String> touchedId = new TupleTag<>("touchedId");
    TupleTag<String> golden = new TupleTag<>("golden");
    TupleTag<Row> earlierRow = new TupleTag<>("earlierRow");
    TupleTag<KV<String, String>> opened = new TupleTag<>("opened");
    TupleTag<KV<String, Row>> byCluster = new TupleTag<>("byCluster");
    PCollectionTuple perRecord =
        KeyedPCollectionTuple.of(
                arrivingId,
                arriving.apply("ArrivingIds", ParDo.of(new IdFn(idField))).setCoder(strings))
            .and(touchedId, touched)
            .and(golden, crosswalk.apply("GoldenIds", ParDo.of(new GoldenIdFn())).setCoder(strings))
            .and(
                earlierRow,
                earlier.apply("EarlierById", ParDo.of(new KeyByIdFn(idField))).setCoder(keyedRows))
            .apply("JoinRecords", CoGroupByKey.create())
            .apply(
                "Clusters",
                ParDo.of(
                        new PerRecordFn(
                            arrivingId, touchedId, golden, earlierRow, opened, byCluster))
                    .withOutputTags(opened, TupleTagList.of(byCluster)));

    // 3. Earlier records of the opened clusters, beside the arriving records.
    TupleTag<String> openedCluster = new TupleTag<>("openedCluster");
    TupleTag<Row> member = new TupleTag<>("member");
    PCollection<Row> reopened =
        KeyedPCollectionTuple.of(openedCluster, perRecord.get(opened).setCoder(strings))
            .and(member, perRecord.get(byCluster).setCoder(keyedRows))
            .apply("JoinClusters", CoGroupByKey.create())
            .apply("Reopened", ParDo.of(new ReopenedFn(openedCluster, member)))
            .setCoder(arriving.getCoder());
    return PCollectionList.of(arriving)
        .and(reopened)
        .apply("WithAffected", Flatten.pCollections())
        .setCoder(arriving.getCoder());
  }

  private static String id(Row row, String idField) {
    return String.valueOf(row.<Object>getValue(idField));
  }

  /** Each blocking-key value of a record, with the record's id (earlier) or nothing (arriving). */
  private static final class BlockValuesFn extends DoFn<Row, KV<String, String>> {
    private final String idField;
    private final List<BlockingKey> blocking;
    private final boolean withId;

    BlockValuesFn(String idField, List<BlockingKey> blocking, boolean withId) {
      this.idField = idField;
      this.blocking = blocking;
      this.withId = withId;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, String>> out) {
      for (BlockingKey key : blocking) {
        String value = key.value(field -> ResolveIdentities.text(row, field));
        if (value != null) {
          out.output(KV.of(value, withId ? id(row, idField) : ""));
        }
      }
    }
  }

  private static final class TouchedFn extends DoFn<KV<String, CoGbkResult>, KV<String, String>> {
    private final TupleTag<String> arriving;
    private final TupleTag<String> earlier;
    private final int maxBlockSize;

    TouchedFn(TupleTag<String> arriving, TupleTag<String> earlier, int maxBlockSize) {
      this.arriving = arriving;
      this.earlier = earlier;
      this.maxBlockSize = maxBlockSize;
    }

    @ProcessElement
    public void process(
        @Element KV<String, CoGbkResult> block, OutputReceiver<KV<String, String>> out) {
      int size = 0;
      for (String ignored : block.getValue().getAll(arriving)) {
        size++;
      }
      if (size == 0) {
        return;
      }
      List<String> ids = new ArrayList<>();
      for (String id : block.getValue().getAll(earlier)) {
        ids.add(id);
        if (size + ids.size() > maxBlockSize) {
          return; // too large to be compared, so it cannot make a match
        }
      }
      ids.forEach(id -> out.output(KV.of(id, "")));
    }
  }

  private static final class IdFn extends DoFn<Row, KV<String, String>> {
    private final String idField;

    IdFn(String idField) {
      this.idField = idField;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, String>> out) {
      out.output(KV.of(id(row, idField), ""));
    }
  }

  private static final class KeyByIdFn extends DoFn<Row, KV<String, Row>> {
    private final String idField;

    KeyByIdFn(String idField) {
      this.idField = idField;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      out.output(KV.of(id(row, idField), row));
    }
  }

  /** {@code golden_id|first_seen|} from the crosswalk, as the golden id alone. */
  private static final class GoldenIdFn extends DoFn<KV<String, String>, KV<String, String>> {
    @ProcessElement
    public void process(@Element KV<String, String> entry, OutputReceiver<KV<String, String>> out) {
      int bar = entry.getValue().indexOf('|');
      out.output(
          KV.of(entry.getKey(), bar < 0 ? entry.getValue() : entry.getValue().substring(0, bar)));
    }
  }

  /**
   * For one record id: opens its cluster when it arrives or was touched, and passes its earlier
   * version on, keyed by its cluster, unless it arrived again. A record without a golden id (loaded
   * before identity resolution was configured) is a cluster of its own.
   */
  private static final class PerRecordFn extends DoFn<KV<String, CoGbkResult>, KV<String, String>> {
    private final TupleTag<String> arriving;
    private final TupleTag<String> touched;
    private final TupleTag<String> golden;
    private final TupleTag<Row> earlier;
    private final TupleTag<KV<String, String>> opened;
    private final TupleTag<KV<String, Row>> byCluster;

    PerRecordFn(
        TupleTag<String> arriving,
        TupleTag<String> touched,
        TupleTag<String> golden,
        TupleTag<Row> earlier,
        TupleTag<KV<String, String>> opened,
        TupleTag<KV<String, Row>> byCluster) {
      this.arriving = arriving;
      this.touched = touched;
      this.golden = golden;
      this.earlier = earlier;
      this.opened = opened;
      this.byCluster = byCluster;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> record, MultiOutputReceiver out) {
      CoGbkResult joined = record.getValue();
      boolean arrived = joined.getAll(arriving).iterator().hasNext();
      boolean wasTouched = joined.getAll(touched).iterator().hasNext();
      String goldenId = joined.getOnly(golden, null);
      String cluster = goldenId != null ? "golden " + goldenId : "record " + record.getKey();
      if (arrived || wasTouched) {
        out.get(opened).output(KV.of(cluster, ""));
      }
      Row row = joined.getOnly(earlier, null);
      if (row != null && !arrived) {
        out.get(byCluster).output(KV.of(cluster, row));
      }
    }
  }

  private static final class ReopenedFn extends DoFn<KV<String, CoGbkResult>, Row> {
    private final TupleTag<String> opened;
    private final TupleTag<Row> member;
    private final Counter records = RunCounters.counter("identity.earlier_records_rematched");
    private final Counter clusters = RunCounters.counter("identity.clusters_reopened");

    ReopenedFn(TupleTag<String> opened, TupleTag<Row> member) {
      this.opened = opened;
      this.member = member;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> cluster, OutputReceiver<Row> out) {
      if (!cluster.getValue().getAll(opened).iterator().hasNext()) {
        return;
      }
      clusters.inc();
      for (Row row : cluster.getValue().getAll(member)) {
        records.inc();
        out.output(row);
      }
    }
  }
}
