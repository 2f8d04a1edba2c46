package dev.watershed.io.bigquery;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.services.bigquery.model.Clustering;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableRow;
import com.google.api.services.bigquery.model.TableSchema;
import com.google.api.services.bigquery.model.TimePartitioning;
import dev.watershed.io.WriteMode;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryStorageApiInsertError;
import org.apache.beam.sdk.io.gcp.bigquery.RowMutationInformation;
import org.apache.beam.sdk.io.gcp.bigquery.WriteResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;

/**
 * Loads a model's rows into a BigQuery table through the Storage Write API, creating the table from
 * the model when it is missing.
 *
 * <ul>
 *   <li>{@code append}: exactly-once (pending streams committed when the load ends) or, with {@link
 *       #withAtLeastOnce}, the default stream.
 *   <li>{@code merge}: change data capture through the Storage Write API: the table gets the model
 *       key as its primary key and each row is an {@code UPSERT} (or a {@code DELETE}, for a change
 *       stream's deletes) ordered by a change sequence number: the version column's value, the
 *       change stream's {@code _version}, or the run's time. BigQuery applies CDC on the default
 *       stream only, so merges are at least once; replays are harmless because the newest sequence
 *       number wins.
 * </ul>
 *
 * <p>Types: string STRING, int and long INT64, decimal(p,s) NUMERIC when it fits (p - s &le; 29, s
 * &le; 9) else BIGNUMERIC, boolean BOOL, date DATE, timestamp TIMESTAMP; fields listed by {@link
 * #withJsonFields} are JSON. Rows BigQuery rejects become dead letters (stage {@code load}) with
 * the reason BigQuery gave; the output is those dead letters.
 */
public final class BigQueryLoad extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final String table;
  private final CanonicalModel model;
  private WriteMode mode = WriteMode.APPEND;
  private boolean atLeastOnce;
  private String versionColumn;
  private Instant runTime = Instant.EPOCH;
  private String partitionBy;
  private List<String> clusterBy = List.of();
  private List<String> jsonFields = List.of();
  private PCollectionView<Boolean> gate;
  private String sinkName = "bigquery";
  private BigQueryServices testServices;
  private java.time.Duration triggeringFrequency;

  private BigQueryLoad(String table, CanonicalModel model) {
    this.table = table;
    this.model = model;
  }

  /** Loads into {@code project:dataset.table}. */
  public static BigQueryLoad into(String table, CanonicalModel model) {
    return new BigQueryLoad(table, model);
  }

  private BigQueryLoad copy() {
    BigQueryLoad copy = new BigQueryLoad(table, model);
    copy.mode = mode;
    copy.atLeastOnce = atLeastOnce;
    copy.versionColumn = versionColumn;
    copy.runTime = runTime;
    copy.partitionBy = partitionBy;
    copy.clusterBy = clusterBy;
    copy.jsonFields = jsonFields;
    copy.gate = gate;
    copy.sinkName = sinkName;
    copy.testServices = testServices;
    copy.triggeringFrequency = triggeringFrequency;
    return copy;
  }

  /** {@code append} or {@code merge}; BigQuery's Storage Write API cannot overwrite. */
  public BigQueryLoad withMode(WriteMode writeMode) {
    if (writeMode == WriteMode.OVERWRITE) {
      throw new IllegalArgumentException("a BigQuery sink appends or merges; it cannot overwrite");
    }
    BigQueryLoad next = copy();
    next.mode = writeMode;
    return next;
  }

  /** Appends through the default stream: cheaper, and a retried bundle may write rows twice. */
  public BigQueryLoad withAtLeastOnce() {
    BigQueryLoad next = copy();
    next.atLeastOnce = true;
    return next;
  }

  /**
   * Merges order a key's rows by this column (a timestamp, date or number: newer wins), and by the
   * run's time when there is none.
   */
  public BigQueryLoad withVersionColumn(String column, Instant runStarted) {
    BigQueryLoad next = copy();
    next.versionColumn = column;
    next.runTime = runStarted;
    return next;
  }

  /** Day partitions by a date or timestamp field. */
  public BigQueryLoad withPartitioning(String field) {
    BigQueryLoad next = copy();
    next.partitionBy = field;
    return next;
  }

  /** Clusters the table by these fields (at most four). */
  public BigQueryLoad withClustering(List<String> fields) {
    BigQueryLoad next = copy();
    next.clusterBy = List.copyOf(fields);
    return next;
  }

  /** String fields that hold JSON documents, typed JSON in BigQuery. */
  public BigQueryLoad withJsonFields(List<String> fields) {
    BigQueryLoad next = copy();
    next.jsonFields = List.copyOf(fields);
    return next;
  }

  /** Writes nothing unless the view holds true (the quality gate). */
  public BigQueryLoad withGate(PCollectionView<Boolean> commitAllowed) {
    BigQueryLoad next = copy();
    next.gate = commitAllowed;
    return next;
  }

  /** The sink's name in counters ({@code load.<sink>.<model>}). */
  public BigQueryLoad withSinkName(String name) {
    BigQueryLoad next = copy();
    next.sinkName = name;
    return next;
  }

  /**
   * For an unbounded input: how often exactly-once appends commit their streams (BigQuery's Storage
   * Write API needs one for unbounded exactly-once writes).
   */
  public BigQueryLoad withTriggeringFrequency(java.time.Duration every) {
    BigQueryLoad next = copy();
    next.triggeringFrequency = every;
    return next;
  }

  /** BigQuery services other than Google Cloud's, e.g. Beam's fakes in tests. */
  public BigQueryLoad withTestServices(BigQueryServices services) {
    BigQueryLoad next = copy();
    next.testServices = services;
    return next;
  }

  /** The table's schema: the model's load fields in BigQuery types. */
  public TableSchema tableSchema() {
    List<TableFieldSchema> fields = new ArrayList<>();
    for (Schema.Field field : loadFields()) {
      boolean key = model.key().contains(field.getName());
      fields.add(
          new TableFieldSchema()
              .setName(field.getName())
              .setType(typeOf(field))
              .setMode(key && mode == WriteMode.MERGE ? "REQUIRED" : "NULLABLE"));
    }
    return new TableSchema().setFields(fields);
  }

  private List<Schema.Field> loadFields() {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field field : model.loadFields()) {
      if (!field.getName().equals(RawRecords.DELETED)) {
        fields.add(field);
      }
    }
    return fields;
  }

  private String typeOf(Schema.Field field) {
    if (jsonFields.contains(field.getName())) {
      return "JSON";
    }
    switch (ModelTypes.kind(field)) {
      case INT:
      case LONG:
        return "INT64";
      case DECIMAL:
        int precision = ModelTypes.precision(field);
        int scale = ModelTypes.scale(field);
        return precision - scale <= 29 && scale <= 9 ? "NUMERIC" : "BIGNUMERIC";
      case BOOLEAN:
        return "BOOL";
      case DATE:
        return "DATE";
      case TIMESTAMP:
        return "TIMESTAMP";
      default:
        return "STRING";
    }
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("table", table));
    builder.add(DisplayData.item("mode", mode.specName()));
    builder.add(DisplayData.item("method", atLeastOnce ? "at_least_once" : "exactly_once"));
    builder.addIfNotNull(DisplayData.item("versionColumn", versionColumn));
    builder.addIfNotNull(DisplayData.item("partitionBy", partitionBy));
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    ParDo.SingleOutput<Row, Row> gated = ParDo.of(new GateFn(this));
    PCollection<Row> passed =
        rows.apply("Gate", gate == null ? gated : gated.withSideInputs(gate))
            .setRowSchema(model.schema());
    List<String> names = loadFields().stream().map(Schema.Field::getName).toList();
    BigQueryIO.Write<Row> write =
        BigQueryIO.<Row>write()
            .to(table)
            .withSchema(tableSchema())
            .withFormatFunction(new Format(names))
            .withCreateDisposition(BigQueryIO.Write.CreateDisposition.CREATE_IF_NEEDED)
            .withWriteDisposition(BigQueryIO.Write.WriteDisposition.WRITE_APPEND);
    if (mode == WriteMode.MERGE) {
      write =
          write
              .withMethod(BigQueryIO.Write.Method.STORAGE_API_AT_LEAST_ONCE)
              .withPrimaryKey(model.key())
              .withRowMutationInformationFn(new Mutation(versionColumn, runTime));
    } else {
      write =
          write.withMethod(
              atLeastOnce
                  ? BigQueryIO.Write.Method.STORAGE_API_AT_LEAST_ONCE
                  : BigQueryIO.Write.Method.STORAGE_WRITE_API);
    }
    if (partitionBy != null) {
      write =
          write.withTimePartitioning(new TimePartitioning().setType("DAY").setField(partitionBy));
    }
    if (!clusterBy.isEmpty()) {
      write = write.withClustering(new Clustering().setFields(clusterBy));
    }
    if (testServices != null) {
      write = write.withTestServices(testServices);
    }
    if (triggeringFrequency != null
        && rows.isBounded() == PCollection.IsBounded.UNBOUNDED
        && mode != WriteMode.MERGE
        && !atLeastOnce) {
      write =
          write
              .withTriggeringFrequency(
                  org.joda.time.Duration.millis(triggeringFrequency.toMillis()))
              .withAutoSharding();
    }
    WriteResult result = passed.apply("WriteStorageApi", write);
    return result
        .getFailedStorageApiInserts()
        .apply("Rejected", ParDo.of(new RejectedFn(this)))
        .setRowSchema(DeadLetter.SCHEMA);
  }

  /** Passes rows on when the gate is open, counting them loaded (or blocked). */
  private static final class GateFn extends DoFn<Row, Row> {
    private final PCollectionView<Boolean> gate;
    private final Counter loaded;
    private final Counter blocked;

    GateFn(BigQueryLoad load) {
      this.gate = load.gate;
      this.loaded = RunCounters.counter("load." + load.sinkName + "." + load.model.name());
      this.blocked = RunCounters.counter("blocked." + load.sinkName + "." + load.model.name());
    }

    @ProcessElement
    public void process(ProcessContext context) {
      if (gate != null && !context.sideInput(gate)) {
        blocked.inc();
        return;
      }
      loaded.inc();
      context.output(context.element());
    }
  }

  /** A model row as a BigQuery row. */
  private static final class Format implements SerializableFunction<Row, TableRow> {
    private final List<String> names;

    Format(List<String> names) {
      this.names = names;
    }

    @Override
    public TableRow apply(Row row) {
      TableRow out = new TableRow();
      for (String name : names) {
        Object value = row.getValue(name);
        if (value == null) {
          continue;
        }
        if (value instanceof BigDecimal decimal) {
          value = decimal.toPlainString();
        } else if (value instanceof Instant instant) {
          value = instant.toString();
        } else if (value instanceof LocalDate date) {
          value = date.toString();
        }
        out.set(name, value);
      }
      return out;
    }
  }

  /** Upsert or delete, ordered by the version column, {@code _version}, or the run's time. */
  private static final class Mutation implements SerializableFunction<Row, RowMutationInformation> {
    private final String versionColumn;
    private final long runMicros;

    Mutation(String versionColumn, Instant runTime) {
      this.versionColumn = versionColumn;
      this.runMicros = runTime.getEpochSecond() * 1_000_000 + runTime.getNano() / 1000;
    }

    @Override
    public RowMutationInformation apply(Row row) {
      boolean changes = row.getSchema().hasField(RawRecords.VERSION);
      boolean delete = changes && Boolean.TRUE.equals(row.getValue(RawRecords.DELETED));
      long sequence =
          changes
              ? row.<Long>getValue(RawRecords.VERSION)
              : versionColumn != null ? sequenceOf(row.getValue(versionColumn)) : runMicros;
      return RowMutationInformation.of(
          delete
              ? RowMutationInformation.MutationType.DELETE
              : RowMutationInformation.MutationType.UPSERT,
          sequence);
    }

    private long sequenceOf(Object value) {
      if (value instanceof Instant instant) {
        return instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1000;
      }
      if (value instanceof LocalDate date) {
        return date.toEpochDay();
      }
      if (value instanceof Number number) {
        return number.longValue();
      }
      return runMicros;
    }
  }

  /** A row BigQuery rejected, as a dead letter; the rejected rows are no longer counted loaded. */
  private static final class RejectedFn extends DoFn<BigQueryStorageApiInsertError, Row> {
    private final String table;
    private final List<String> key;
    private final Counter loaded;
    private final Counter rejected;

    RejectedFn(BigQueryLoad load) {
      this.table = load.table;
      this.key = load.model.key();
      this.loaded = RunCounters.counter("load." + load.sinkName + "." + load.model.name());
      this.rejected = RunCounters.counter("rejected." + load.sinkName + "." + load.model.name());
    }

    @ProcessElement
    public void process(@Element BigQueryStorageApiInsertError error, OutputReceiver<Row> out)
        throws Exception {
      TableRow row = error.getRow();
      Map<String, Object> values = new LinkedHashMap<>(row);
      List<String> keyValues = new ArrayList<>();
      for (String field : key) {
        keyValues.add(String.valueOf(row.get(field)));
      }
      loaded.dec();
      rejected.inc();
      out.output(
          DeadLetter.of(
              "load",
              "rejected by BigQuery",
              String.valueOf(error.getErrorMessage()),
              row.get(RawRecords.SOURCE) == null
                  ? table
                  : String.valueOf(row.get(RawRecords.SOURCE)),
              "table " + table + " key " + String.join("|", keyValues),
              JSON.writeValueAsString(values)));
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
}
