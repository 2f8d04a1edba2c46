package dev.watershed.pipelines.compose;

import dev.watershed.io.drift.SourceSchemas;
import dev.watershed.pipelines.config.ClosestName;
import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecError;
import dev.watershed.pipelines.sources.JdbcSourceType;
import dev.watershed.transforms.conform.FieldRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the columns conform rules read against the database sources' catalogs, before a run: a
 * misspelt column is reported with the spec line and the closest column there is, instead of the
 * database's bare error minutes into the run. (CSV headers are checked by the spec parser, which
 * reads files but contacts no database.) A column the source had when last read (or declares in
 * {@code schema:}) and has lost since is left to the drift policy, which reads it as null or
 * refuses the run as the spec says.
 */
public final class SourceColumns {
  private SourceColumns() {}

  /**
   * The problems found; a source whose database cannot be reached adds a line to {@code notes}
   * instead (a run checks reachability on its own, with its fix).
   */
  public static List<SpecError> check(Spec spec, List<String> notes) {
    List<SpecError> errors = new ArrayList<>();
    for (SourceConfig source : spec.sources().values()) {
      // File headers are checked by the parser; databases are read here.
      if (!(source instanceof JdbcSourceType.Config jdbc)) {
        continue;
      }
      Set<String> columns;
      Set<String> expected;
      try {
        columns = jdbc.observeColumns(spec).keySet();
        expected = Drift.expectedColumns(spec, source);
        noteNullableMark(spec, jdbc, notes);
      } catch (Exception e) {
        notes.add(
            "the columns of source '"
                + source.name()
                + "' were not checked: its database could not be read ("
                + e.getClass().getSimpleName()
                + ")");
        continue;
      }
      String from =
          jdbc.table() != null ? "table " + jdbc.table() : "the query of " + source.name();
      for (int i = 0; i < spec.conform().size(); i++) {
        ConformSpec entry = spec.conform().get(i);
        if (!entry.from().equals(source.name())) {
          continue;
        }
        for (Map.Entry<String, FieldRule> rule : entry.fields().entrySet()) {
          for (String column : rule.getValue().columns()) {
            // A column the source had when last read and has lost since is the drift policy's.
            if (columns.contains(column) || expected.contains(column)) {
              continue;
            }
            errors.add(
                new SpecError(
                    "conform[" + i + "].fields." + rule.getKey(),
                    entry.lineOf(rule.getKey()),
                    "source '"
                        + source.name()
                        + "' has no column '"
                        + column
                        + "' in "
                        + from
                        + ClosestName.hint(column, columns)
                        + " (columns: "
                        + String.join(", ", columns)
                        + ")"));
          }
        }
      }
    }
    return errors;
  }

  /**
   * An incremental mark column the catalog says may be null: a row whose mark is null is outside
   * every range after the first run's, so it would never be read; the run is told, not refused.
   */
  private static void noteNullableMark(Spec spec, JdbcSourceType.Config jdbc, List<String> notes)
      throws Exception {
    if (jdbc.incremental() == null || jdbc.table() == null) {
      return;
    }
    String mark = jdbc.incremental().column();
    for (SourceSchemas.JdbcColumn column :
        SourceSchemas.jdbcColumns(
            jdbc.endpoint(),
            jdbc.table(),
            null,
            jdbc.initSql() == null ? null : spec.resolve(jdbc.initSql()))) {
      if (column.name().equalsIgnoreCase(mark) && column.nullable()) {
        notes.add(
            "source '"
                + jdbc.name()
                + "': its incremental column '"
                + mark
                + "' may be null, and a row whose "
                + mark
                + " is null is read only by a run without a stored mark (the first); declare the"
                + " column NOT NULL, or read coalesce("
                + mark
                + ", <a time>) in a query");
      }
    }
  }
}
