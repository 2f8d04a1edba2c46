package dev.watershed.pipelines.init;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.drift.SourceSchemas;
import dev.watershed.io.files.CsvFormat;
import dev.watershed.io.files.CsvSource;
import dev.watershed.io.files.ParquetSource;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.init.StarterSpec.Column;
import dev.watershed.pipelines.init.StarterSpec.ForeignKey;
import dev.watershed.pipelines.init.StarterSpec.Table;
import dev.watershed.transforms.drift.SourceTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * What {@code watershed init} finds: a database's tables (columns and their types, primary keys,
 * nullability, foreign keys, from the JDBC catalog) or a folder's CSV files (header, types inferred
 * from a sample of values, a key where a column's sampled values are all present and distinct).
 */
public final class Catalogs {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The file name extensions init reads, as a pattern that removes them from a name. */
  public static final String EXTENSION = "(?i)\\.(csv|jsonl|ndjson|parquet)$";

  /** Values sampled per CSV file to infer types and a key. */
  public static final int SAMPLE = 10_000;

  private Catalogs() {}

  /**
   * The tables of a database, or only {@code wanted} (names as the catalog spells them, optionally
   * with their schema: {@code shop.orders}).
   *
   * @param sourceKeys the source block's keys after {@code type}: url, user, password
   */
  public static List<Table> database(
      JdbcEndpoint endpoint, Map<String, String> sourceKeys, List<String> wanted)
      throws SQLException {
    List<Table> tables = new ArrayList<>();
    try (Connection connection = endpoint.connect()) {
      DatabaseMetaData meta = connection.getMetaData();
      List<String[]> found = new ArrayList<>();
      // The connection's own database (MariaDB lists every database's tables otherwise).
      String database = connection.getCatalog();
      try (ResultSet rows =
          meta.getTables(database, null, "%", new String[] {"TABLE", "BASE TABLE"})) {
        while (rows.next()) {
          String schema = rows.getString("TABLE_SCHEM");
          String name = rows.getString("TABLE_NAME");
          if (isSystemSchema(schema)) {
            continue;
          }
          if (wanted.isEmpty()
              || wanted.contains(name)
              || (schema != null && wanted.contains(schema + "." + name))) {
            found.add(new String[] {rows.getString("TABLE_CAT"), schema, name});
          }
        }
      }
      Set<String> names = new HashSet<>();
      for (String[] table : found) {
        names.add(table[2]);
      }
      for (String want : wanted) {
        String bare = want.contains(".") ? want.substring(want.lastIndexOf('.') + 1) : want;
        if (!names.contains(bare)) {
          throw new IllegalArgumentException(
              "no table '" + want + "' in the database; tables: " + String.join(", ", names));
        }
      }
      for (String[] table : found) {
        tables.add(table(meta, table[0], table[1], table[2], sourceKeys, found.size() > 1));
      }
    }
    return tables;
  }

  private static boolean isSystemSchema(String schema) {
    if (schema == null) {
      return false;
    }
    String s = schema.toLowerCase(Locale.ROOT);
    return s.equals("information_schema") || s.equals("pg_catalog") || s.startsWith("pg_toast");
  }

  private static Table table(
      DatabaseMetaData meta,
      String catalog,
      String schema,
      String name,
      Map<String, String> sourceKeys,
      boolean several)
      throws SQLException {
    List<Column> columns = new ArrayList<>();
    try (ResultSet rows = meta.getColumns(catalog, schema, name, "%")) {
      while (rows.next()) {
        columns.add(
            new Column(
                rows.getString("COLUMN_NAME"),
                modelType(
                    rows.getInt("DATA_TYPE"),
                    rows.getString("TYPE_NAME"),
                    rows.getInt("COLUMN_SIZE"),
                    rows.getInt("DECIMAL_DIGITS")),
                rows.getInt("NULLABLE") != DatabaseMetaData.columnNoNulls));
      }
    }
    Map<Integer, String> keyColumns = new TreeMap<>();
    try (ResultSet rows = meta.getPrimaryKeys(catalog, schema, name)) {
      while (rows.next()) {
        keyColumns.put(rows.getInt("KEY_SEQ"), rows.getString("COLUMN_NAME"));
      }
    }
    Map<String, List<String[]>> byConstraint = new LinkedHashMap<>();
    try (ResultSet rows = meta.getImportedKeys(catalog, schema, name)) {
      while (rows.next()) {
        String constraint = rows.getString("FK_NAME");
        byConstraint
            .computeIfAbsent(constraint == null ? "" : constraint, k -> new ArrayList<>())
            .add(
                new String[] {
                  rows.getString("FKCOLUMN_NAME"),
                  rows.getString("PKTABLE_NAME"),
                  rows.getString("PKCOLUMN_NAME")
                });
      }
    } catch (SQLException notSupported) {
      // Some catalogs do not report foreign keys; the spec simply has no relationships rules.
    }
    List<ForeignKey> foreignKeys = new ArrayList<>();
    for (List<String[]> parts : byConstraint.values()) {
      foreignKeys.add(
          new ForeignKey(
              parts.stream().map(p -> p[0]).toList(),
              parts.get(0)[1],
              parts.stream().map(p -> p[2]).toList()));
    }
    Map<String, String> source = new LinkedHashMap<>(sourceKeys);
    String qualified =
        schema == null || schema.isEmpty() || schema.equals("main") || schema.equals("public")
            ? name
            : schema + "." + name;
    source.put("table", StarterSpec.quoted(qualified));
    List<String> key = new ArrayList<>(keyColumns.values());
    String note =
        key.isEmpty()
            ? "the table has no primary key: the first column is taken as the key; check it"
            : null;
    return new Table(name, "jdbc", source, columns, key, foreignKeys, note);
  }

  /** The model type of a JDBC column type: drift's type family, decimals with their size. */
  static String modelType(int sqlType, String typeName, int size, int digits) {
    String family = SourceSchemas.type(sqlType, typeName);
    if (!family.equals("decimal")) {
      return family;
    }
    boolean exact = sqlType == Types.DECIMAL || sqlType == Types.NUMERIC;
    if (!exact || size <= 0 || size > 38) {
      // Floating point, or PostgreSQL's numeric without a precision: as wide as warehouses allow.
      return "decimal(38,9)";
    }
    return "decimal(" + size + "," + Math.max(0, Math.min(digits, size)) + ")";
  }

  /**
   * The CSV files of {@code folder} (or {@code folder} itself, one file), each a table whose
   * columns' types are inferred from up to {@link #SAMPLE} records.
   *
   * @param pathPrefix how the spec names the folder (the path as given on the command line)
   */
  public static List<Table> files(Path folder, String pathPrefix) throws IOException {
    List<Path> files = new ArrayList<>();
    if (Files.isRegularFile(folder)) {
      files.add(folder);
    } else {
      try (Stream<Path> listed = Files.list(folder)) {
        listed.filter(p -> isCsv(p) || isJsonLines(p) || isParquet(p)).sorted().forEach(files::add);
      }
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no .csv, .jsonl or .parquet file in " + folder);
    }
    List<Table> tables = new ArrayList<>();
    String prefix = pathPrefix.endsWith("/") ? pathPrefix : pathPrefix + "/";
    for (Path file : files) {
      String path = Files.isRegularFile(folder) ? pathPrefix : prefix + file.getFileName();
      tables.add(
          isJsonLines(file)
              ? jsonLinesFile(file, path)
              : isParquet(file) ? parquetFile(file, path) : csvFile(file, path));
    }
    return Files.isRegularFile(folder) ? tables : series(files, tables, prefix);
  }

  /**
   * Files of one series (daily exports: {@code customers-2024-03-01.csv}, {@code
   * customers-2024-03-02.csv}) as one source: same format, same columns, names equal but for their
   * digits. The series reads them all by a glob ({@code customers-*-*-*.csv}); column types widen
   * to hold every file's sample.
   */
  private static List<Table> series(List<Path> files, List<Table> tables, String prefix) {
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < files.size(); i++) {
      String name = files.get(i).getFileName().toString();
      String pattern = name.replaceAll("\\d+", "*");
      List<String> columns = tables.get(i).columns().stream().map(Column::name).toList();
      groups
          .computeIfAbsent(
              tables.get(i).type() + "|" + pattern + "|" + columns, k -> new ArrayList<>())
          .add(i);
    }
    List<Table> out = new ArrayList<>();
    for (List<Integer> group : groups.values()) {
      Table first = tables.get(group.get(0));
      String pattern = files.get(group.get(0)).getFileName().toString().replaceAll("\\d+", "*");
      if (group.size() == 1 || !pattern.contains("*")) {
        group.forEach(i -> out.add(tables.get(i)));
        continue;
      }
      List<Column> columns = new ArrayList<>(first.columns());
      boolean sameKey = true;
      for (int i : group.subList(1, group.size())) {
        Table other = tables.get(i);
        sameKey &= other.key().equals(first.key());
        for (int c = 0; c < columns.size(); c++) {
          Column mine = columns.get(c);
          columns.set(
              c, new Column(mine.name(), widest(mine.type(), other.columns().get(c).type()), true));
        }
      }
      String stem = pattern.replaceFirst(EXTENSION, "");
      String name = stem.replace("*", "").replaceAll("[-_.]+$", "").replaceAll("[-_.]{2,}", "_");
      Map<String, String> source = new LinkedHashMap<>();
      source.put("path", StarterSpec.quoted(prefix + pattern));
      out.add(
          new Table(
              name.isEmpty() ? "files" : name,
              first.type(),
              source,
              columns,
              sameKey ? first.key() : List.of(),
              List.of(),
              group.size()
                  + " files of one series, read by one glob; the key is unique within each file"
                  + " (a later file's row replaces an earlier one's); check it"));
    }
    return out;
  }

  /** Two model types widened to hold both: drift's widening, decimals with the larger scale. */
  private static String widest(String a, String b) {
    String family = SourceTypes.widest(SourceTypes.family(a), SourceTypes.family(b));
    if (!family.equals("decimal")) {
      return family;
    }
    int scale = Math.max(scaleOf(a), scaleOf(b));
    return "decimal(" + Math.min(38, 18 + scale) + "," + scale + ")";
  }

  private static int scaleOf(String type) {
    if (!type.startsWith("decimal(")) {
      return 0;
    }
    return Integer.parseInt(type.substring(type.indexOf(',') + 1, type.indexOf(')')).trim());
  }

  private static boolean isCsv(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv");
  }

  private static boolean isJsonLines(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".jsonl") || name.endsWith(".ndjson");
  }

  private static boolean isParquet(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".parquet");
  }

  /**
   * A Parquet file: its columns and their types from the file's schema (a required column is not
   * null), a key from its sampled values as for CSV files.
   */
  private static Table parquetFile(Path file, String path) throws IOException {
    ParquetSource.Sample sample = ParquetSource.sample(file.toString(), SAMPLE);
    List<Column> columns = new ArrayList<>();
    List<String> header = new ArrayList<>();
    for (Type field : sample.schema().getFields()) {
      header.add(field.getName());
      columns.add(
          new Column(
              field.getName(),
              parquetType(field),
              field.getRepetition() != Type.Repetition.REQUIRED));
    }
    String stem = file.getFileName().toString().replaceFirst(EXTENSION, "");
    String key = keyAmong(uniqueColumns(header, sample.records()), stem);
    Map<String, String> source = new LinkedHashMap<>();
    source.put("path", StarterSpec.quoted(path));
    return new Table(
        stem,
        "parquet",
        source,
        columns,
        key == null ? List.of() : List.of(key),
        List.of(),
        keyNote(key));
  }

  /**
   * The model type of a Parquet column: by its logical type where it has one, else by its physical
   * type; nested groups, byte arrays, times and INT96 as text.
   */
  static String parquetType(Type field) {
    if (!field.isPrimitive()) {
      return "string";
    }
    PrimitiveType primitive = field.asPrimitiveType();
    LogicalTypeAnnotation logical = primitive.getLogicalTypeAnnotation();
    if (logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation decimal) {
      int precision = Math.min(38, decimal.getPrecision());
      return "decimal(" + precision + "," + Math.min(decimal.getScale(), precision) + ")";
    }
    if (logical instanceof LogicalTypeAnnotation.DateLogicalTypeAnnotation) {
      return "date";
    }
    if (logical instanceof LogicalTypeAnnotation.TimestampLogicalTypeAnnotation) {
      return "timestamp";
    }
    if (logical instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation integer) {
      // An unsigned 32-bit value may not fit an int; an unsigned 64-bit one is kept exact.
      return integer.getBitWidth() < 32 || (integer.getBitWidth() == 32 && integer.isSigned())
          ? "int"
          : integer.getBitWidth() == 32 ? "long" : integer.isSigned() ? "long" : "decimal(20,0)";
    }
    if (logical != null) {
      return "string";
    }
    switch (primitive.getPrimitiveTypeName()) {
      case BOOLEAN:
        return "boolean";
      case INT32:
        return "int";
      case INT64:
        return "long";
      case FLOAT:
      case DOUBLE:
        // As for a database's floating point column: as wide as warehouses allow.
        return "decimal(38,9)";
      default:
        return "string";
    }
  }

  private static Table csvFile(Path file, String path) throws IOException {
    List<String> header;
    List<List<String>> sample = new ArrayList<>();
    try (CsvSource.Records records = CsvSource.records(file.toString(), CsvFormat.rfc4180())) {
      header = records.next();
      if (header == null) {
        throw new IllegalArgumentException(file + " is empty; a header record is needed");
      }
      List<String> fields;
      while (sample.size() < SAMPLE && (fields = records.next()) != null) {
        sample.add(fields);
      }
    }
    return sampled(file, "csv", path, header, sample);
  }

  /**
   * A JSON lines file: the fields of its sampled objects in the order first seen, nested objects as
   * dotted paths ({@code owner.email}, as the jsonl source reads them), arrays as their JSON text;
   * lines that are not objects are left out of the sample.
   */
  private static Table jsonLinesFile(Path file, String path) throws IOException {
    List<String> header = new ArrayList<>();
    List<Map<String, String>> objects = new ArrayList<>();
    try (java.io.BufferedReader lines =
        Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
      String line;
      while (objects.size() < SAMPLE && (line = lines.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (IOException notJson) {
          continue;
        }
        if (node == null || !node.isObject()) {
          continue;
        }
        Map<String, String> values = new LinkedHashMap<>();
        flatten("", node, values);
        for (String field : values.keySet()) {
          if (!header.contains(field)) {
            header.add(field);
          }
        }
        objects.add(values);
      }
    }
    if (header.isEmpty()) {
      throw new IllegalArgumentException(file + " holds no JSON object to read fields from");
    }
    List<List<String>> sample = new ArrayList<>();
    for (Map<String, String> object : objects) {
      List<String> row = new ArrayList<>();
      for (String field : header) {
        row.add(object.get(field));
      }
      sample.add(row);
    }
    return sampled(file, "jsonl", path, header, sample);
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    node.fields()
        .forEachRemaining(
            field -> {
              String name = prefix + field.getKey();
              JsonNode value = field.getValue();
              if (value.isObject()) {
                flatten(name + ".", value, out);
              } else if (value.isNull()) {
                out.put(name, null);
              } else {
                out.put(name, value.isValueNode() ? value.asText() : value.toString());
              }
            });
  }

  /** A file's table from its columns and sampled values: types, nullability and a key. */
  private static Table sampled(
      Path file, String sourceType, String path, List<String> header, List<List<String>> sample) {
    List<Column> columns = new ArrayList<>();
    String stem = file.getFileName().toString().replaceFirst(EXTENSION, "");
    for (int i = 0; i < header.size(); i++) {
      // A sample says nothing of the values to come: a file's columns are nullable.
      columns.add(new Column(header.get(i), sampledType(sample, i), true));
    }
    String key = keyAmong(uniqueColumns(header, sample), stem);
    Map<String, String> source = new LinkedHashMap<>();
    source.put("path", StarterSpec.quoted(path));
    List<String> keyList = key == null ? List.of() : List.of(key);
    return new Table(stem, sourceType, source, columns, keyList, List.of(), keyNote(key));
  }

  /** The model type that holds every sampled value of {@code column}; string when all are null. */
  static String sampledType(List<List<String>> sample, int column) {
    String type = SourceTypes.NULL;
    for (List<String> record : sample) {
      String inferred = SourceTypes.infer(column < record.size() ? record.get(column) : null);
      if (!inferred.equals(SourceTypes.NULL)) {
        type = type.equals(SourceTypes.NULL) ? inferred : SourceTypes.widest(type, inferred);
      }
    }
    return type.equals(SourceTypes.NULL) ? "string" : fileType(type, sample, column);
  }

  /** The columns whose sampled values are all present and distinct. */
  private static List<String> uniqueColumns(List<String> header, List<List<String>> sample) {
    List<String> unique = new ArrayList<>();
    for (int i = 0; i < header.size(); i++) {
      Set<String> distinct = new HashSet<>();
      boolean present = true;
      for (List<String> record : sample) {
        String value = i < record.size() ? record.get(i) : null;
        if (SourceTypes.infer(value).equals(SourceTypes.NULL)) {
          present = false;
          break;
        }
        distinct.add(value.strip());
      }
      if (present && !sample.isEmpty() && distinct.size() == sample.size()) {
        unique.add(header.get(i));
      }
    }
    return unique;
  }

  private static String keyNote(String key) {
    return key == null
        ? "no column's sampled values are all present and distinct: the first column is"
            + " taken as the key; check it"
        : "the key is a column whose sampled values are all present and distinct; check it";
  }

  /**
   * Of the columns whose sampled values are all present and distinct: {@code id} or {@code
   * <file>_id}, else one ending in {@code id}, else the first; null when there is none.
   */
  private static String keyAmong(List<String> unique, String stem) {
    String file = stem.toLowerCase(Locale.ROOT);
    for (String column : unique) {
      String lower = column.toLowerCase(Locale.ROOT);
      if (lower.equals("id") || lower.equals(file + "_id")) {
        return column;
      }
    }
    for (String column : unique) {
      if (column.toLowerCase(Locale.ROOT).endsWith("id")) {
        return column;
      }
    }
    return unique.isEmpty() ? null : unique.get(0);
  }

  /** Decimals get a precision and scale wide enough for the sampled values. */
  private static String fileType(String family, List<List<String>> sample, int column) {
    if (!family.equals("decimal")) {
      return family;
    }
    int scale = 0;
    int integer = 1;
    for (List<String> record : sample) {
      if (column >= record.size() || record.get(column) == null) {
        continue;
      }
      String text = record.get(column).strip().replace("-", "").replace("+", "");
      if (text.isEmpty()) {
        continue;
      }
      int dot = text.indexOf('.');
      scale = Math.max(scale, dot < 0 ? 0 : text.length() - dot - 1);
      integer = Math.max(integer, dot < 0 ? text.length() : dot);
    }
    int precision = Math.min(38, Math.max(integer + scale, 18));
    return "decimal(" + precision + "," + Math.min(scale, precision) + ")";
  }
}
