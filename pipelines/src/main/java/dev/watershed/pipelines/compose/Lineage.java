package dev.watershed.pipelines.compose;

import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.LineageSpec;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.transform.SqlLineage;
import dev.watershed.pipelines.transform.SqlModels;
import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.quality.QualityRule;
import io.openlineage.client.OpenLineage;
import io.openlineage.client.OpenLineageClient;
import io.openlineage.client.transports.ApiKeyTokenProvider;
import io.openlineage.client.transports.FileConfig;
import io.openlineage.client.transports.FileTransport;
import io.openlineage.client.transports.HttpConfig;
import io.openlineage.client.transports.HttpTransport;
import io.openlineage.client.transports.KafkaConfig;
import io.openlineage.client.transports.KafkaTransport;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.beam.sdk.schemas.Schema;

/**
 * A run's OpenLineage events, through OpenLineage's Java client, appended as JSON lines to {@code
 * lineage.jsonl} beside the run report (or the file {@code lineage: path} names) and, with {@code
 * lineage: url}, posted to an OpenLineage HTTP API such as Marquez's: START when the run starts,
 * COMPLETE when it succeeds, FAIL (with the error) when it fails or a quality gate blocks it.
 *
 * <p>The job is the spec ({@code watershed}/{@code <spec name>}); the inputs are its sources and
 * the outputs each sink's models, named by OpenLineage's conventions ({@link DatasetName}). Outputs
 * carry their schema (the model's fields), the rows written, the column lineage the conform
 * mappings give (which source columns each field comes from and how: as it is, normalised, given a
 * prefix, computed by an expression, looked up). At the run's end, before its COMPLETE or FAIL, the
 * quality rules it checked go out as a child job's run ({@link #qualityEvents}). Datasets never
 * carry credentials, and the causes passed in are already cleared of secrets.
 */
public final class Lineage {
  /** Who produces the events, as OpenLineage asks. */
  static final URI PRODUCER = URI.create("https://github.com/watershed-data/watershed");

  private static final String FILE = "lineage.jsonl";

  private Lineage() {}

  /** The file the events go to: the spec's, or the default beside the run report. */
  public static Path file(Spec spec) {
    String path = spec.lineage().path();
    return path == null ? RunReport.folder(spec).resolve(FILE) : Path.of(spec.resolve(path));
  }

  /** The run's id: the same for all of a run's events (from the spec and the start time). */
  static UUID runId(Spec spec, Instant started) {
    return UUID.nameUUIDFromBytes((spec.name() + "@" + started).getBytes(StandardCharsets.UTF_8));
  }

  /** A START event: the run's inputs and the outputs it will write, with their column lineage. */
  static void started(Spec spec, Instant started, Consumer<String> warnings) {
    emit(spec, event(spec, started, OpenLineage.RunEvent.EventType.START, null, null), warnings);
  }

  /**
   * The end of a run: COMPLETE when it {@code succeeded}, else FAIL with {@code cause} (or the
   * status, e.g. {@code blocked}, when there is no cause). {@code summary} may be null (a run that
   * failed before it counted anything).
   */
  static void ended(
      Spec spec,
      Instant started,
      String status,
      RunSummary summary,
      String cause,
      Consumer<String> warnings) {
    boolean ok = status.equals("succeeded");
    String message = ok ? null : cause != null ? cause : why(status, summary);
    if (summary != null) {
      for (OpenLineage.RunEvent quality : qualityEvents(spec, started, summary)) {
        emit(spec, quality, warnings);
      }
    }
    emit(
        spec,
        event(
            spec,
            started,
            ok ? OpenLineage.RunEvent.EventType.COMPLETE : OpenLineage.RunEvent.EventType.FAIL,
            summary,
            message),
        warnings);
  }

  /**
   * An event of a run this class does not see start and end by itself (a streaming run): {@code
   * type} is START, RUNNING, COMPLETE, ABORT or FAIL; {@code summary} the counts so far, or null;
   * {@code error} the cause of a FAIL, cleared of secrets.
   */
  public static void send(
      Spec spec,
      Instant started,
      String type,
      RunSummary summary,
      String error,
      Consumer<String> warnings) {
    emit(
        spec,
        event(spec, started, OpenLineage.RunEvent.EventType.valueOf(type), summary, error),
        warnings);
  }

  private static String why(String status, RunSummary summary) {
    if (status.equals("blocked")) {
      return "quality checks that fail the run failed; nothing was committed";
    }
    if (summary != null && !summary.reconciled()) {
      return "the run does not reconcile (in != loaded + merged away + dead-lettered + dropped)";
    }
    if (summary != null && summary.sqlModels().failed()) {
      return "SQL models failed: "
          + summary.sqlModels().models().stream()
              .filter(m -> m.status().equals("failed"))
              .map(m -> m.name())
              .toList();
    }
    if (summary != null && summary.sqlModels().blocked()) {
      return "a test of a SQL model that fails the run failed";
    }
    if (summary != null && !summary.destinationsDown().isEmpty()) {
      return "destinations failed: " + String.join(", ", summary.destinationsDown());
    }
    return "the run " + status;
  }

  /** Sends {@code event} where the spec says; what fails is a warning, never the run's end. */
  private static void emit(Spec spec, OpenLineage.RunEvent event, Consumer<String> warnings) {
    try {
      java.nio.file.Files.createDirectories(file(spec).toAbsolutePath().getParent());
    } catch (java.io.IOException e) {
      // The transport says so below.
    }
    try (OpenLineageClient client =
        new OpenLineageClient(new FileTransport(new FileConfig(file(spec).toString())))) {
      client.emit(event);
    } catch (Exception e) {
      // Lineage is a record of the run, never a reason for it to fail.
      warnings.accept(
          "warning: could not write the lineage event to " + file(spec) + ": " + e.getMessage());
    }
    LineageSpec lineage = spec.lineage();
    if (lineage.topic() != null) {
      toKafka(spec, lineage, event, warnings);
    }
    if (lineage.url() == null) {
      return;
    }
    HttpConfig http = new HttpConfig();
    http.setUrl(URI.create(lineage.url()));
    http.setEndpoint(lineage.endpoint());
    http.setTimeoutInMillis((int) lineage.timeout().toMillis());
    if (lineage.apiKey() != null) {
      ApiKeyTokenProvider key = new ApiKeyTokenProvider();
      key.setApiKey(lineage.apiKey());
      http.setAuth(key);
    }
    try (OpenLineageClient client = new OpenLineageClient(new HttpTransport(http))) {
      client.emit(event);
    } catch (Exception e) {
      warnings.accept(
          "warning: could not send the "
              + event.getEventType()
              + " lineage event to "
              + withoutUserInfo(lineage.url())
              + lineage.endpoint()
              + " ("
              + e.getClass().getSimpleName()
              + "); the run goes on, and "
              + file(spec)
              + " has it");
    }
  }

  private static void toKafka(
      Spec spec, LineageSpec lineage, OpenLineage.RunEvent event, Consumer<String> warnings) {
    int timeout = (int) lineage.timeout().toMillis();
    Properties producer = new Properties();
    producer.put("bootstrap.servers", lineage.bootstrapServers());
    producer.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    producer.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    producer.put("acks", "all");
    // A broker that is down costs the run about the timeout, not Kafka's minute.
    producer.put("max.block.ms", timeout);
    producer.put("request.timeout.ms", timeout);
    producer.put("delivery.timeout.ms", 2 * timeout);
    KafkaConfig config = new KafkaConfig(lineage.topic(), "watershed/" + spec.name(), producer);
    try (OpenLineageClient client = new OpenLineageClient(new KafkaTransport(config))) {
      client.emit(event);
    } catch (Exception e) {
      warnings.accept(
          "warning: could not send the "
              + event.getEventType()
              + " lineage event to topic "
              + lineage.topic()
              + " at "
              + lineage.bootstrapServers()
              + " ("
              + e.getClass().getSimpleName()
              + "); the run goes on, and "
              + file(spec)
              + " has it");
    }
  }

  private static String withoutUserInfo(String url) {
    return url.replaceFirst("//[^/@]*@", "//");
  }

  static OpenLineage.RunEvent event(
      Spec spec,
      Instant started,
      OpenLineage.RunEvent.EventType type,
      RunSummary summary,
      String error) {
    OpenLineage ol = new OpenLineage(PRODUCER);
    OpenLineage.RunFacetsBuilder runFacets =
        ol.newRunFacetsBuilder()
            .processing_engine(
                ol.newProcessingEngineRunFacet(
                    org.apache.beam.sdk.util.ReleaseInfo.getReleaseInfo().getVersion(),
                    "Apache Beam",
                    null));
    if (error != null) {
      runFacets.errorMessage(ol.newErrorMessageRunFacet(error, "java", null));
    }
    return ol.newRunEventBuilder()
        .eventType(type)
        .eventTime(ZonedDateTime.now(ZoneOffset.UTC))
        .run(ol.newRunBuilder().runId(runId(spec, started)).facets(runFacets.build()).build())
        .job(ol.newJobBuilder().namespace("watershed").name(spec.name()).build())
        .inputs(inputs(ol, spec))
        .outputs(outputs(ol, spec, summary))
        .build();
  }

  private static List<OpenLineage.InputDataset> inputs(OpenLineage ol, Spec spec) {
    List<OpenLineage.InputDataset> inputs = new ArrayList<>();
    for (SourceConfig source : spec.sources().values()) {
      DatasetName dataset = source.datasetName(spec);
      List<OpenLineage.SchemaDatasetFacetFields> fields = new ArrayList<>();
      for (String column : columnsRead(spec, source.name())) {
        fields.add(ol.newSchemaDatasetFacetFieldsBuilder().name(column).build());
      }
      inputs.add(
          ol.newInputDatasetBuilder()
              .namespace(dataset.namespace())
              .name(dataset.name())
              .facets(
                  ol.newDatasetFacetsBuilder()
                      .dataSource(
                          ol.newDatasourceDatasetFacet(
                              dataset.namespace(), dataSourceUri(dataset.namespace())))
                      .schema(ol.newSchemaDatasetFacet(fields))
                      .build())
              .build());
    }
    return inputs;
  }

  /** The columns of {@code source} the conform mappings read. */
  private static Set<String> columnsRead(Spec spec, String source) {
    Set<String> columns = new TreeSet<>();
    for (ConformSpec conform : spec.conform()) {
      if (conform.from().equals(source)) {
        conform.fields().values().forEach(rule -> columns.addAll(rule.columns()));
      }
    }
    return columns;
  }

  private static URI dataSourceUri(String namespace) {
    try {
      URI uri = URI.create(namespace);
      return uri.getScheme() == null ? URI.create(namespace + ":") : uri;
    } catch (IllegalArgumentException e) {
      return URI.create("watershed:dataset");
    }
  }

  private static List<OpenLineage.OutputDataset> outputs(
      OpenLineage ol, Spec spec, RunSummary summary) {
    List<OpenLineage.OutputDataset> outputs = new ArrayList<>();
    for (SinkConfig sink : spec.sinks().values()) {
      for (String model : spec.modelsOf(sink)) {
        CanonicalModel canonical = spec.models().get(model);
        DatasetName dataset = sink.datasetName(spec, model);
        List<OpenLineage.SchemaDatasetFacetFields> fields = new ArrayList<>();
        for (Schema.Field field : canonical.dataFields()) {
          fields.add(
              ol.newSchemaDatasetFacetFieldsBuilder()
                  .name(field.getName())
                  .type(ModelTypes.describe(field))
                  .build());
        }
        OpenLineage.DatasetFacetsBuilder facets =
            ol.newDatasetFacetsBuilder()
                .dataSource(
                    ol.newDatasourceDatasetFacet(
                        dataset.namespace(), dataSourceUri(dataset.namespace())))
                .schema(ol.newSchemaDatasetFacet(fields))
                .columnLineage(columnLineage(ol, spec, canonical));
        OpenLineage.OutputDatasetBuilder output =
            ol.newOutputDatasetBuilder()
                .namespace(dataset.namespace())
                .name(dataset.name())
                .facets(facets.build());
        if (summary != null) {
          output.outputFacets(
              ol.newOutputDatasetOutputFacetsBuilder()
                  .outputStatistics(
                      ol.newOutputStatisticsOutputDatasetFacetBuilder()
                          .rowCount(summary.loadedInto(sink.name(), model))
                          .size(summary.bytesInto(sink.name(), model))
                          .build())
                  .build());
        }
        outputs.add(output.build());
      }
    }
    if (spec.sqlModels() != null) {
      outputs.addAll(sqlOutputs(ol, spec, summary));
    }
    return outputs;
  }

  /**
   * The SQL models the run builds in the warehouse, each with its columns and their lineage from
   * the parsed SQL (the tables it reads, in the same warehouse), and the rows a table model got.
   */
  private static List<OpenLineage.OutputDataset> sqlOutputs(
      OpenLineage ol, Spec spec, RunSummary summary) {
    SqlModels models;
    try {
      models = SqlModels.load(spec);
    } catch (IllegalArgumentException e) {
      return List.of(); // validate said so; the events still describe the rest
    }
    List<OpenLineage.OutputDataset> outputs = new ArrayList<>();
    for (SqlModels.SqlModel model : models.inOrder()) {
      DatasetName dataset = models.sink().datasetName(spec, model.name());
      Map<String, List<SqlLineage.Input>> columns = SqlLineage.of(model);
      List<OpenLineage.SchemaDatasetFacetFields> fields = new ArrayList<>();
      OpenLineage.ColumnLineageDatasetFacetFieldsBuilder lineage =
          ol.newColumnLineageDatasetFacetFieldsBuilder();
      for (Map.Entry<String, List<SqlLineage.Input>> column : columns.entrySet()) {
        fields.add(ol.newSchemaDatasetFacetFieldsBuilder().name(column.getKey()).build());
        List<OpenLineage.InputField> inputs = new ArrayList<>();
        for (SqlLineage.Input input : column.getValue()) {
          DatasetName from = models.sink().datasetName(spec, input.table());
          boolean identity = input.transformation().equals("IDENTITY");
          inputs.add(
              ol.newInputFieldBuilder()
                  .namespace(from.namespace())
                  .name(from.name())
                  .field(input.column())
                  .transformations(
                      List.of(
                          ol.newInputFieldTransformationsBuilder()
                              .type("DIRECT")
                              .subtype(identity ? "IDENTITY" : "TRANSFORMATION")
                              .description(identity ? "" : input.transformation())
                              .masking(false)
                              .build()))
                  .build());
        }
        lineage.put(
            column.getKey(),
            ol.newColumnLineageDatasetFacetFieldsAdditionalBuilder().inputFields(inputs).build());
      }
      OpenLineage.OutputDatasetBuilder output =
          ol.newOutputDatasetBuilder()
              .namespace(dataset.namespace())
              .name(dataset.name())
              .facets(
                  ol.newDatasetFacetsBuilder()
                      .dataSource(
                          ol.newDatasourceDatasetFacet(
                              dataset.namespace(), dataSourceUri(dataset.namespace())))
                      .schema(ol.newSchemaDatasetFacet(fields))
                      .columnLineage(
                          ol.newColumnLineageDatasetFacetBuilder().fields(lineage.build()).build())
                      .build());
      if (summary != null) {
        summary.sqlModels().models().stream()
            .filter(m -> m.name().equals(model.name()) && m.rows() >= 0)
            .findFirst()
            .ifPresent(
                built ->
                    output.outputFacets(
                        ol.newOutputDatasetOutputFacetsBuilder()
                            .outputStatistics(
                                ol.newOutputStatisticsOutputDatasetFacetBuilder()
                                    .rowCount(built.rows())
                                    .build())
                            .build()));
      }
      outputs.add(output.build());
    }
    return outputs;
  }

  /**
   * The quality rules the run checked, as OpenLineage models checks: a run of a child job, {@code
   * <spec>.quality} (its parent facet names the spec's run), whose inputs are the datasets checked,
   * each with a data-quality assertions facet: one assertion per rule, named as the run report
   * names it ({@code not_null(email)}, or the name the spec gives), with the column it judges and
   * whether it passed. Watershed checks the rows before it commits them, so the datasets are the
   * outputs the rows were checked for. COMPLETE when no rule that fails the run failed, else FAIL.
   * None when the run checked no rule.
   */
  static List<OpenLineage.RunEvent> qualityEvents(Spec spec, Instant started, RunSummary summary) {
    OpenLineage ol = new OpenLineage(PRODUCER);
    List<OpenLineage.InputDataset> checked = new ArrayList<>();
    for (SinkConfig sink : spec.sinks().values()) {
      for (String model : spec.modelsOf(sink)) {
        List<OpenLineage.DataQualityAssertionsDatasetFacetAssertions> assertions =
            new ArrayList<>();
        for (QualityRule rule : spec.quality().getOrDefault(model, List.of())) {
          Boolean passed = summary.passed(model, rule);
          if (passed != null) {
            assertions.add(
                ol.newDataQualityAssertionsDatasetFacetAssertions(
                    rule.name(), passed, rule.column()));
          }
        }
        if (!assertions.isEmpty()) {
          DatasetName dataset = sink.datasetName(spec, model);
          checked.add(
              ol.newInputDatasetBuilder()
                  .namespace(dataset.namespace())
                  .name(dataset.name())
                  .inputFacets(
                      ol.newInputDatasetInputFacetsBuilder()
                          .dataQualityAssertions(
                              ol.newDataQualityAssertionsDatasetFacet(assertions))
                          .build())
                  .build());
        }
      }
    }
    if (checked.isEmpty()) {
      return List.of();
    }
    OpenLineage.RunFacets parent =
        ol.newRunFacetsBuilder()
            .parent(
                ol.newParentRunFacet(
                    ol.newParentRunFacetRun(runId(spec, started)),
                    ol.newParentRunFacetJob("watershed", spec.name()),
                    null))
            .build();
    OpenLineage.Run run =
        ol.newRunBuilder()
            .runId(
                UUID.nameUUIDFromBytes(
                    (spec.name() + ".quality@" + started).getBytes(StandardCharsets.UTF_8)))
            .facets(parent)
            .build();
    OpenLineage.Job job =
        ol.newJobBuilder().namespace("watershed").name(spec.name() + ".quality").build();
    List<OpenLineage.RunEvent> events = new ArrayList<>();
    for (OpenLineage.RunEvent.EventType type :
        List.of(
            OpenLineage.RunEvent.EventType.START,
            summary.blocked()
                ? OpenLineage.RunEvent.EventType.FAIL
                : OpenLineage.RunEvent.EventType.COMPLETE)) {
      events.add(
          ol.newRunEventBuilder()
              .eventType(type)
              .eventTime(ZonedDateTime.now(ZoneOffset.UTC))
              .run(run)
              .job(job)
              .inputs(checked)
              .outputs(List.of())
              .build());
    }
    return events;
  }

  /**
   * Each field of {@code model}: the source columns its conform rules read, per source, and how
   * (OpenLineage's DIRECT transformations: IDENTITY when the value is copied as it is, else
   * TRANSFORMATION with a description of the steps).
   */
  static OpenLineage.ColumnLineageDatasetFacet columnLineage(
      OpenLineage ol, Spec spec, CanonicalModel model) {
    Map<String, List<OpenLineage.InputField>> byField = new LinkedHashMap<>();
    for (Schema.Field field : model.dataFields()) {
      byField.put(field.getName(), new ArrayList<>());
    }
    for (ConformSpec conform : spec.conformInto(model.name())) {
      SourceConfig source = spec.sources().get(conform.from());
      if (source == null) {
        continue;
      }
      DatasetName dataset = source.datasetName(spec);
      for (Map.Entry<String, FieldRule> entry : conform.fields().entrySet()) {
        List<OpenLineage.InputField> inputs = byField.get(entry.getKey());
        if (inputs == null) {
          continue;
        }
        FieldRule rule = entry.getValue();
        String description = transformation(rule);
        for (String column : new TreeSet<>(rule.columns())) {
          inputs.add(
              ol.newInputFieldBuilder()
                  .namespace(dataset.namespace())
                  .name(dataset.name())
                  .field(column)
                  .transformations(
                      List.of(
                          ol.newInputFieldTransformationsBuilder()
                              .type("DIRECT")
                              .subtype(description == null ? "IDENTITY" : "TRANSFORMATION")
                              .description(description == null ? "" : description)
                              .masking(false)
                              .build()))
                  .build());
        }
      }
    }
    OpenLineage.ColumnLineageDatasetFacetFieldsBuilder fields =
        ol.newColumnLineageDatasetFacetFieldsBuilder();
    byField.forEach(
        (field, inputs) ->
            fields.put(
                field,
                ol.newColumnLineageDatasetFacetFieldsAdditionalBuilder()
                    .inputFields(inputs)
                    .build()));
    return ol.newColumnLineageDatasetFacetBuilder().fields(fields.build()).build();
  }

  /**
   * What a rule does to its columns, in the spec's words; null when it copies one column as it is
   * (a cast to the field's type aside).
   */
  static String transformation(FieldRule rule) {
    List<String> steps = new ArrayList<>();
    if (rule.expression() != null) {
      steps.add("expression " + rule.expression());
    }
    if (rule.lookup() != null) {
      steps.add("lookup");
    }
    for (FieldRule.Normalizer normalizer : rule.normalizers()) {
      steps.add("normalize " + normalizer.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (!rule.formats().isEmpty()) {
      steps.add("parse " + String.join(" | ", rule.formats()));
    }
    if (rule.prefix() != null) {
      steps.add("prefix '" + rule.prefix() + "'");
    }
    return steps.isEmpty() ? null : String.join(", ", steps);
  }

  /**
   * The column lineage of {@code spec} as text for a terminal: per model, the tables and files it
   * lands in, then per field the source columns it comes from and how. {@code only} narrows it to
   * one model ({@code customer}) or field ({@code customer.email}); null for all.
   *
   * @throws IllegalArgumentException when {@code only} names no model or field of the spec
   */
  public static List<String> describe(Spec spec, String only) {
    String onlyModel =
        only == null ? null : only.contains(".") ? only.substring(0, only.indexOf('.')) : only;
    String onlyField =
        only != null && only.contains(".") ? only.substring(only.indexOf('.') + 1) : null;
    SqlModels sqlModels = spec.sqlModels() == null ? null : SqlModels.load(spec);
    if (onlyModel != null && sqlModels != null && sqlModels.isModel(onlyModel)) {
      return describeSql(spec, sqlModels, onlyModel, onlyField);
    }
    if (onlyModel != null && !spec.models().containsKey(onlyModel)) {
      throw new IllegalArgumentException(
          "no model '"
              + onlyModel
              + "' in the spec; models: "
              + String.join(", ", spec.models().keySet())
              + (sqlModels == null
                  ? ""
                  : "; SQL models: "
                      + String.join(
                          ", ",
                          sqlModels.inOrder().stream().map(SqlModels.SqlModel::name).toList())));
    }
    List<String> lines = new ArrayList<>();
    for (CanonicalModel model : spec.models().values()) {
      if (onlyModel != null && !onlyModel.equals(model.name())) {
        continue;
      }
      List<String> names = model.dataFields().stream().map(Schema.Field::getName).toList();
      if (onlyField != null && !names.contains(onlyField)) {
        throw new IllegalArgumentException(
            "no field '"
                + onlyField
                + "' in model '"
                + model.name()
                + "'; fields: "
                + String.join(", ", names));
      }
      lines.add(model.name());
      for (SinkConfig sink : spec.sinks().values()) {
        if (spec.modelsOf(sink).contains(model.name())) {
          DatasetName dataset = sink.datasetName(spec, model.name());
          lines.add("  -> " + sink.name() + ": " + dataset.namespace() + " " + dataset.name());
        }
      }
      for (String field : names) {
        if (onlyField != null && !onlyField.equals(field)) {
          continue;
        }
        lines.add("  " + model.name() + "." + field);
        for (ConformSpec conform : spec.conformInto(model.name())) {
          FieldRule rule = conform.fields().get(field);
          if (rule == null) {
            continue;
          }
          String how = transformation(rule);
          if (rule.columns().isEmpty()) {
            lines.add("    <- " + conform.from() + ": constant " + rule.constant());
            continue;
          }
          for (String column : new TreeSet<>(rule.columns())) {
            lines.add("    <- " + conform.from() + "." + column + (how == null ? "" : "   " + how));
          }
        }
      }
    }
    if (onlyModel == null && sqlModels != null) {
      for (SqlModels.SqlModel model : sqlModels.inOrder()) {
        lines.addAll(describeSql(spec, sqlModels, model.name(), null));
      }
    }
    return lines;
  }

  /** A SQL model's lines: where it is built, and per column the columns it reads and how. */
  private static List<String> describeSql(
      Spec spec, SqlModels models, String name, String onlyColumn) {
    SqlModels.SqlModel model =
        models.inOrder().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    Map<String, List<SqlLineage.Input>> columns = SqlLineage.of(model);
    if (onlyColumn != null && !columns.containsKey(onlyColumn)) {
      throw new IllegalArgumentException(
          "no column '"
              + onlyColumn
              + "' in SQL model '"
              + name
              + "'; columns: "
              + String.join(", ", columns.keySet()));
    }
    List<String> lines = new ArrayList<>();
    DatasetName dataset = models.sink().datasetName(spec, name);
    lines.add(name + " (SQL model, " + model.materialized() + ")");
    lines.add("  -> " + models.sink().name() + ": " + dataset.namespace() + " " + dataset.name());
    for (Map.Entry<String, List<SqlLineage.Input>> column : columns.entrySet()) {
      if (onlyColumn != null && !onlyColumn.equals(column.getKey())) {
        continue;
      }
      lines.add("  " + name + "." + column.getKey());
      for (SqlLineage.Input input : column.getValue()) {
        lines.add(
            "    <- "
                + input.table()
                + "."
                + input.column()
                + (input.transformation().equals("IDENTITY")
                    ? ""
                    : "   " + input.transformation()));
      }
    }
    return lines;
  }
}
