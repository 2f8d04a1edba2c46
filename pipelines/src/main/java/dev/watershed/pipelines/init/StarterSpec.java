package dev.watershed.pipelines.init;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A commented starter spec for tables found in a database or files found in a folder ({@link
 * Catalogs}): one source per table or file, a model per source with typed fields and the primary
 * key, a conform block mapping columns one to one, dedupe by key where a version or updated-at
 * column exists, an incremental mark where one fits, a relationships rule per foreign key, and a
 * DuckDB warehouse sink. {@code validate} passes on it and {@code run} loads the data unchanged.
 */
public final class StarterSpec {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./][A-Za-z0-9_./*-]*");
  private static final List<String> VERSION_NAMES =
      List.of("updated_at", "modified_at", "last_modified", "updated", "modified", "version");

  /** A column of a table or file: its name and model type. */
  public record Column(String name, String type, boolean nullable) {}

  /** A foreign key: these columns point at the key of another table. */
  public record ForeignKey(List<String> columns, String table, List<String> referenced) {}

  /**
   * A table or file. {@code source} holds the source block's keys after {@code type} (in order,
   * values already quoted where YAML needs it); {@code key} is empty when none was found.
   */
  public record Table(
      String name,
      String type,
      Map<String, String> source,
      List<Column> columns,
      List<String> key,
      List<ForeignKey> foreignKeys,
      String keyNote) {}

  private StarterSpec() {}

  /** The spec's text for {@code tables}, loading into {@code warehouse} (a DuckDB file). */
  public static String yaml(String name, String from, List<Table> tables, String warehouse) {
    StringBuilder y = new StringBuilder();
    y.append("# A starter spec written by `watershed init --from ")
        .append(from)
        .append("`.\n")
        .append("# Check the keys and types, add normalisers and quality rules, then:\n")
        .append("#   watershed validate <this file>   and   watershed run <this file>\n")
        .append("name: ")
        .append(name)
        .append("\nmode: batch")
        .append(
            tables.stream().anyMatch(StarterSpec::isChangeStream)
                ? "             # reads what the topics hold now; micro-batch (with every: 1m)"
                    + " or streaming\n                        # keeps following them\n"
                : "\n")
        .append("\nsources:\n");
    Map<String, String> modelNames = new LinkedHashMap<>();
    for (Table table : tables) {
      modelNames.put(table.name(), modelName(table.name()));
    }
    for (Table table : tables) {
      y.append("  ").append(modelNames.get(table.name())).append(":\n");
      y.append("    type: ").append(table.type()).append('\n');
      for (Map.Entry<String, String> entry : table.source().entrySet()) {
        y.append("    ").append(entry.getKey()).append(": ").append(entry.getValue()).append('\n');
      }
      String version = versionColumn(table);
      if (isChangeStream(table)) {
        y.append(
                "    # inserts and updates merge by key, deletes delete; an older or repeated event")
            .append(" loses to\n    # a newer one by its position in the source log\n");
      }
      if (table.type().equals("jdbc")) {
        if (!table.key().isEmpty()) {
          y.append("    key: ").append(list(table.key())).append('\n');
        }
        // Only a column that is never null: an incremental read never sees a row without a mark.
        if (version != null && table.key().size() == 1 && isNotNullTimestamp(table, version)) {
          y.append("    # read only rows changed since the last run (a mark kept per source)\n")
              .append("    incremental: { column: ")
              .append(quoted(version))
              .append(", tie_break: ")
              .append(quoted(table.key().get(0)))
              .append(" }\n");
        }
      }
    }
    y.append("\nmodels:\n");
    for (Table table : tables) {
      String model = modelNames.get(table.name());
      y.append("  ").append(model).append(":\n");
      if (table.keyNote() != null) {
        y.append("    # ").append(table.keyNote()).append('\n');
      }
      y.append("    key: ").append(list(fieldNames(keyOrFirst(table)))).append('\n');
      y.append("    fields:\n");
      for (Column column : table.columns()) {
        y.append("      ")
            .append(fieldName(column.name()))
            .append(": ")
            .append(column.type())
            .append(column.nullable() ? "" : "   # not null in the source")
            .append('\n');
      }
    }
    y.append("\nconform:\n");
    for (Table table : tables) {
      String model = modelNames.get(table.name());
      y.append("  - from: ").append(model).append("\n    to: ").append(model);
      y.append("\n    fields:\n");
      for (Column column : table.columns()) {
        String field = fieldName(column.name());
        y.append("      ").append(field).append(": ");
        if (field.equals(column.name())) {
          y.append(column.name());
        } else {
          y.append("{ from: ").append(quoted(column.name())).append(" }");
        }
        y.append('\n');
      }
    }
    StringBuilder dedupe = new StringBuilder();
    for (Table table : tables) {
      String version = versionColumn(table);
      // Change events are ordered by their source log already.
      if (version != null && !isChangeStream(table)) {
        dedupe
            .append("  ")
            .append(modelNames.get(table.name()))
            .append(": { keep: latest, order_by: ")
            .append(fieldName(version))
            .append(" }\n");
      }
    }
    if (dedupe.length() > 0) {
      y.append("\ndedupe:                 # one row per key: the latest version\n").append(dedupe);
    }
    StringBuilder quality = new StringBuilder();
    for (Table table : tables) {
      List<String> rules = new ArrayList<>();
      for (ForeignKey fk : table.foreignKeys()) {
        String target = modelNames.get(fk.table());
        if (target == null || fk.columns().size() != 1) {
          continue;
        }
        rules.add(
            "    - relationships: { column: "
                + fieldName(fk.columns().get(0))
                + ", to: "
                + target
                + "."
                + fieldName(fk.referenced().get(0))
                + " }\n      on_failure: warn\n");
      }
      if (!rules.isEmpty()) {
        quality.append("  ").append(modelNames.get(table.name())).append(":\n");
        rules.forEach(quality::append);
      }
    }
    if (quality.length() > 0) {
      y.append("\nquality:                # from the source's foreign keys\n").append(quality);
    }
    boolean changes = tables.stream().anyMatch(StarterSpec::isChangeStream);
    y.append("\nsinks:\n");
    if (changes) {
      y.append("  # deletes: soft keeps a deleted row, marked with _deleted_at\n");
    }
    y.append("  warehouse: { type: duckdb, path: ").append(warehouse).append(", write: merge }\n");
    return y.toString();
  }

  private static boolean isChangeStream(Table table) {
    return "debezium-json".equals(table.source().get("format"));
  }

  private static List<String> keyOrFirst(Table table) {
    return table.key().isEmpty() ? List.of(table.columns().get(0).name()) : table.key();
  }

  /** A column named like a version or update time, if the table has one. */
  static String versionColumn(Table table) {
    for (String wanted : VERSION_NAMES) {
      for (Column column : table.columns()) {
        if (column.name().equalsIgnoreCase(wanted)
            && !table.key().contains(column.name())
            && (column.type().equals("timestamp")
                || column.type().equals("long")
                || column.type().equals("int"))) {
          return column.name();
        }
      }
    }
    return null;
  }

  private static boolean isNotNullTimestamp(Table table, String column) {
    return table.columns().stream()
        .anyMatch(c -> c.name().equals(column) && c.type().equals("timestamp") && !c.nullable());
  }

  /** A model or source name from a table's: lower case, other characters as {@code _}. */
  static String modelName(String table) {
    String last = table.contains(".") ? table.substring(table.lastIndexOf('.') + 1) : table;
    return fieldName(last);
  }

  /** A field name from a column's: lower case, other characters as {@code _}. */
  static String fieldName(String column) {
    String name = column.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]+", "_");
    name = name.replaceAll("^_+", "");
    if (name.isEmpty() || !Character.isLetter(name.charAt(0))) {
      name = "c_" + name;
    }
    return name;
  }

  private static List<String> fieldNames(List<String> columns) {
    return columns.stream().map(StarterSpec::fieldName).toList();
  }

  private static String list(List<String> names) {
    List<String> out = new ArrayList<>();
    for (String name : names) {
      out.add(quoted(name));
    }
    return "[" + String.join(", ", out) + "]";
  }

  /** A spec name from any text: letters, digits and {@code _}. */
  public static String specName(String text) {
    return fieldName(text);
  }

  /** A value as YAML needs it: in double quotes, escaped. */
  public static String quotedValue(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** A name as YAML needs it: bare when it is a plain word or path, else in double quotes. */
  static String quoted(String name) {
    return PLAIN.matcher(name).matches()
        ? name
        : "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
