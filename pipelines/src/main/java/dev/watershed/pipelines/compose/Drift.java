package dev.watershed.pipelines.compose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.drift.DriftEvent;
import dev.watershed.transforms.drift.SchemaDrift;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.schemas.Schema;

/**
 * Schema drift: before a run, each source's schema as it is now is compared with the schema it is
 * expected to have — the one declared under the source's {@code schema:}, or else the one recorded
 * by the last successful run — and the source's {@code drift:} policy decides:
 *
 * <ul>
 *   <li>{@code allow}: run on; extra columns are ignored, a lost column reads as null;
 *   <li>{@code evolve}: a new column becomes a field of every model the source feeds (and a column
 *       of their tables, added by the loads), an int column that now holds longs widens its field;
 *       any other type change fails the run;
 *   <li>{@code quarantine}: every record of the source goes to the dead letters, to be replayed
 *       once the spec has caught up;
 *   <li>{@code fail}: nothing runs, and the command exits with 3.
 * </ul>
 *
 * <p>Every change is shown in the run summary and report and recorded in a {@code
 * _watershed_schema_changes} table in each table sink. Evolved fields are remembered with the
 * recorded schema, so later runs keep them.
 */
public final class Drift {
  /** The table every table sink records drift events in. */
  public static final String CHANGES_TABLE = "_watershed_schema_changes";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the drift checks found and what the run must do. */
  public record Outcome(
      Spec spec,
      List<DriftEvent> events,
      Map<String, String> quarantined,
      Map<String, Set<String>> missingColumns,
      Map<String, Map<String, String>> observed,
      boolean failed) {}

  private Drift() {}

  private static Path schemaFile(Spec spec, String source) {
    return Path.of(spec.resolve(spec.reportPath())).resolve("schemas").resolve(source + ".json");
  }

  /**
   * The columns {@code source} is expected to have: its declared schema, else the one the last
   * successful run recorded (empty before the first run).
   */
  public static Set<String> expectedColumns(Spec spec, SourceConfig source) throws IOException {
    if (!source.schema().isEmpty()) {
      return source.schema().keySet();
    }
    Path recorded = schemaFile(spec, source.name());
    Set<String> columns = new LinkedHashSet<>();
    if (Files.isRegularFile(recorded)) {
      JSON.readTree(recorded.toFile()).path("columns").fieldNames().forEachRemaining(columns::add);
    }
    return columns;
  }

  /** Observes every source, compares, and applies the policies. */
  public static Outcome check(Spec spec) throws IOException, SQLException {
    List<DriftEvent> events = new ArrayList<>();
    Map<String, String> quarantined = new LinkedHashMap<>();
    Map<String, Set<String>> missing = new LinkedHashMap<>();
    Map<String, Map<String, String>> observedAll = new LinkedHashMap<>();
    Map<String, CanonicalModel> models = new LinkedHashMap<>(spec.models());
    List<ConformSpec> conform = new ArrayList<>(spec.conform());
    boolean failed = false;
    for (SourceConfig source : spec.sources().values()) {
      Map<String, String> observed = observe(spec, source);
      if (observed == null) {
        continue;
      }
      observedAll.put(source.name(), observed);
      Map<String, String> evolved = new LinkedHashMap<>();
      Map<String, String> expected = source.schema();
      Path recorded = schemaFile(spec, source.name());
      if (Files.isRegularFile(recorded)) {
        JsonNode file = JSON.readTree(recorded.toFile());
        file.path("evolved")
            .fields()
            .forEachRemaining(e -> evolved.put(e.getKey(), e.getValue().asText()));
        if (expected.isEmpty()) {
          Map<String, String> columns = new LinkedHashMap<>();
          file.path("columns")
              .fields()
              .forEachRemaining(e -> columns.put(e.getKey(), e.getValue().asText()));
          expected = columns;
        }
      }
      List<DriftEvent> found =
          expected.isEmpty() ? List.of() : SchemaDrift.compare(source.name(), expected, observed);
      Set<String> referenced = referencedColumns(spec, source.name());
      for (DriftEvent event : found) {
        String action;
        switch (source.drift()) {
          case "fail":
            action = "failed";
            failed = true;
            break;
          case "quarantine":
            action = "quarantined";
            break;
          case "evolve":
            action = evolve(event, evolved);
            failed |= action.equals("failed");
            break;
          default:
            action = "allowed";
        }
        if (event.change().equals("removed")
            && referenced.contains(event.column())
            && !source.readsMissingColumnsAsNull()) {
          missing.computeIfAbsent(source.name(), s -> new HashSet<>()).add(event.column());
        }
        events.add(event.withAction(action));
      }
      if (source.drift().equals("quarantine") && !found.isEmpty()) {
        List<String> changes = new ArrayList<>();
        for (DriftEvent event : found) {
          changes.add(event.column() + " " + event.change().replace('_', ' '));
        }
        quarantined.put(
            source.name(),
            "the schema of " + source.name() + " changed: " + String.join(", ", changes));
      }
      applyEvolution(source.name(), evolved, models, conform);
    }
    Spec evolvedSpec = spec.withModels(models, conform);
    return new Outcome(evolvedSpec, events, quarantined, missing, observedAll, failed);
  }

  /** Decides an event under {@code evolve}, noting fields to add or widen in {@code evolved}. */
  private static String evolve(DriftEvent event, Map<String, String> evolved) {
    switch (event.change()) {
      case "added":
        evolved.put(event.column(), modelType(event.newType()));
        return "evolved";
      case "type_changed":
        if (event.oldType().equals("int") && event.newType().equals("long")) {
          evolved.put(event.column(), "long");
          return "evolved";
        }
        return "failed";
      default:
        return "evolved";
    }
  }

  private static String modelType(String sourceType) {
    switch (sourceType) {
      case "int":
      case "long":
      case "boolean":
      case "date":
      case "timestamp":
        return sourceType;
      case "decimal":
        return "decimal(38,10)";
      default:
        return "string";
    }
  }

  /** Adds evolved columns to the models a source feeds, and widens fields read from them. */
  private static void applyEvolution(
      String source,
      Map<String, String> evolved,
      Map<String, CanonicalModel> models,
      List<ConformSpec> conform) {
    if (evolved.isEmpty()) {
      return;
    }
    for (int i = 0; i < conform.size(); i++) {
      ConformSpec entry = conform.get(i);
      if (!entry.from().equals(source)) {
        continue;
      }
      CanonicalModel model = models.get(entry.to());
      Map<String, String> types = new LinkedHashMap<>();
      for (Schema.Field field : model.dataFields()) {
        types.put(field.getName(), ModelTypes.describe(field));
      }
      Map<String, FieldRule> rules = new LinkedHashMap<>(entry.fields());
      for (Map.Entry<String, String> column : evolved.entrySet()) {
        String target = fieldFor(rules, column.getKey());
        if (target != null) {
          if (column.getValue().equals("long") && types.get(target).equals("int")) {
            types.put(target, "long");
          }
        } else {
          String name = column.getKey().replaceAll("[^A-Za-z0-9_]", "_");
          types.putIfAbsent(name, column.getValue());
          rules.put(name, FieldRule.from(column.getKey()));
        }
      }
      CanonicalModel.Builder builder = CanonicalModel.builder(model.name()).key(model.key());
      types.forEach(builder::field);
      models.put(model.name(), builder.build());
      conform.set(
          i, new ConformSpec(entry.from(), entry.to(), rules, entry.line(), entry.fieldLines()));
    }
    // A model fed by several sources gains the field in every one of them; others leave it null.
  }

  private static String fieldFor(Map<String, FieldRule> rules, String column) {
    for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
      if (column.equals(rule.getValue().sourceColumn())) {
        return rule.getKey();
      }
    }
    return null;
  }

  private static Set<String> referencedColumns(Spec spec, String source) {
    Set<String> columns = new HashSet<>();
    for (ConformSpec entry : spec.conform()) {
      if (entry.from().equals(source)) {
        entry.fields().values().forEach(rule -> columns.addAll(rule.columns()));
      }
    }
    return columns;
  }

  private static Map<String, String> observe(Spec spec, SourceConfig source)
      throws IOException, SQLException {
    try {
      return source.observeColumns(spec);
    } catch (IOException | SQLException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /** After a successful run: the schemas seen become the ones the next run expects. */
  public static void recordSchemas(Spec spec, Outcome outcome) throws IOException {
    for (Map.Entry<String, Map<String, String>> source : outcome.observed().entrySet()) {
      Path file = schemaFile(spec, source.getKey());
      Map<String, String> evolved = new LinkedHashMap<>();
      if (Files.isRegularFile(file)) {
        JSON.readTree(file.toFile())
            .path("evolved")
            .fields()
            .forEachRemaining(e -> evolved.put(e.getKey(), e.getValue().asText()));
      }
      for (DriftEvent event : outcome.events()) {
        if (event.source().equals(source.getKey())
            && event.action().equals("evolved")
            && event.newType() != null) {
          evolved.put(
              event.column(),
              event.change().equals("added") ? modelType(event.newType()) : event.newType());
        }
      }
      ObjectNode node = JSON.createObjectNode();
      ObjectNode columns = node.putObject("columns");
      source.getValue().forEach(columns::put);
      ObjectNode kept = node.putObject("evolved");
      evolved.forEach(kept::put);
      Files.createDirectories(file.getParent());
      JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), node);
    }
  }

  /** Appends the events to {@value #CHANGES_TABLE} in every table sink. */
  public static void recordInSinks(Spec spec, List<DriftEvent> events, Instant at)
      throws SQLException {
    if (events.isEmpty()) {
      return;
    }
    for (TableSink sink : spec.tableSinks()) {
      JdbcEndpoint endpoint = sink.endpoint(spec);
      String table = sink.tableOf(CHANGES_TABLE);
      String q = endpoint.dialect().quote(table);
      try (Connection connection = endpoint.connect()) {
        try (Statement statement = connection.createStatement()) {
          endpoint.dialect().createSchemaOf(statement, table);
          statement.execute(
              "CREATE TABLE IF NOT EXISTS "
                  + q
                  + " (changed_at TIMESTAMP, source VARCHAR(255), column_name VARCHAR(255),"
                  + " change_kind VARCHAR(32), old_type VARCHAR(64), new_type VARCHAR(64), action VARCHAR(32))");
        }
        try (PreparedStatement insert =
            connection.prepareStatement("INSERT INTO " + q + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
          for (DriftEvent event : events) {
            insert.setTimestamp(1, Timestamp.valueOf(LocalDateTime.ofInstant(at, ZoneOffset.UTC)));
            insert.setString(2, event.source());
            insert.setString(3, event.column());
            insert.setString(4, event.change());
            insert.setString(5, event.oldType());
            insert.setString(6, event.newType());
            insert.setString(7, event.action());
            insert.addBatch();
          }
          insert.executeBatch();
        }
      }
    }
  }
}
