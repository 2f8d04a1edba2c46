package dev.watershed.io.sync;

import dev.watershed.transforms.model.CanonicalModel;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;

/**
 * Records a diff's rows in the destination's {@link SyncLedger} once the load that carried them has
 * committed ({@code committed} is complete), for destinations that commit all rows at once (a
 * table): upserts as received, deletes as removed. Nothing is recorded when the quality gate kept
 * the load from committing. A crash between the commit and the record makes the next run send the
 * same rows again, which a merge applies without change.
 */
public final class RecordLedger extends PTransform<PCollection<Row>, PCollection<Void>> {
  private final SyncLedger ledger;
  private final CanonicalModel model;
  private final PCollection<?> committed;
  private final PCollectionView<Boolean> gate;

  private RecordLedger(
      SyncLedger ledger,
      CanonicalModel model,
      PCollection<?> committed,
      PCollectionView<Boolean> gate) {
    this.ledger = ledger;
    this.model = model;
    this.committed = committed;
    this.gate = gate;
  }

  /** Records into {@code ledger} after {@code committed}; {@code gate} null when none. */
  public static RecordLedger after(
      PCollection<?> committed,
      SyncLedger ledger,
      CanonicalModel model,
      PCollectionView<Boolean> gate) {
    return new RecordLedger(ledger, model, committed, gate);
  }

  @Override
  public PCollection<Void> expand(PCollection<Row> rows) {
    ParDo.SingleOutput<Row, Void> record = ParDo.of(new RecordFn(ledger, model, gate));
    return rows.apply("AfterCommit", Wait.on(committed))
        .setCoder(rows.getCoder())
        .apply("Record", gate == null ? record : record.withSideInputs(gate));
  }

  private static final class RecordFn extends DoFn<Row, Void> {
    private final SyncLedger ledger;
    private final CanonicalModel model;
    private final PCollectionView<Boolean> gate;
    private transient SyncLedger.Accepted accepted;

    RecordFn(SyncLedger ledger, CanonicalModel model, PCollectionView<Boolean> gate) {
      this.ledger = ledger;
      this.model = model;
      this.gate = gate;
    }

    @StartBundle
    public void start() {
      accepted = new SyncLedger.Accepted(ledger, model);
    }

    @ProcessElement
    public void process(@Element Row row, ProcessContext context) {
      if (gate != null && !context.sideInput(gate)) {
        return;
      }
      accepted.add(row);
    }

    @FinishBundle
    public void finish() throws Exception {
      accepted.flush();
    }
  }
}
