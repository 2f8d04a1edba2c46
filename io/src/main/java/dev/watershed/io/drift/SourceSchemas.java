package dev.watershed.io.drift;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.files.CsvFormat;
import dev.watershed.io.files.CsvSource;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.JdbcSource;
import dev.watershed.transforms.drift.SourceTypes;
import dev.watershed.transforms.records.StrictJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;

/**
 * The schema a source has now, as column name to {@link SourceTypes} type, for drift detection
 * before a run: CSV headers and the values under them, the fields of JSON lines (nested objects as
 * dotted paths), and the column types a JDBC driver reports.
 *
 * <p>Text sources' types are inferred from the first {@value #SAMPLE_RECORDS} records of each file,
 * as CSV readers that sniff types do: reading whole files before every run doubled a large CSV load
 * (measured: 25 s of a 2M-row file's 40 s). A value past the sample that its column's type cannot
 * hold is not lost: the run dead-letters it when it is conformed. Lines that do not parse are
 * skipped here (the run dead-letters them too).
 */
public final class SourceSchemas {
  private static final ObjectMapper JSON = StrictJson.mapper();

  /** Records of each text file read to infer its columns' types. */
  public static final int SAMPLE_RECORDS = 100_000;

  private SourceSchemas() {}

  public static Map<String, String> csv(String filepattern, CsvFormat format) throws IOException {
    Map<String, String> types = new LinkedHashMap<>();
    for (String file : files(filepattern)) {
      List<String> header = CsvSource.header(file, format);
      for (String column : header) {
        types.putIfAbsent(column, SourceTypes.NULL);
      }
      try (CsvSource.Records records = CsvSource.records(file, format)) {
        if (format.header()) {
          records.next();
        }
        List<String> fields;
        int sampled = 0;
        while (sampled++ < SAMPLE_RECORDS && (fields = records.next()) != null) {
          if (fields.size() != header.size()) {
            continue;
          }
          for (int c = 0; c < header.size(); c++) {
            types.merge(header.get(c), SourceTypes.infer(fields.get(c)), SourceTypes::widest);
          }
        }
      }
    }
    return types;
  }

  public static Map<String, String> jsonLines(String filepattern) throws IOException {
    Map<String, String> types = new LinkedHashMap<>();
    for (String file : files(filepattern)) {
      try (BufferedReader reader = open(file)) {
        String line;
        int sampled = 0;
        while (sampled++ < SAMPLE_RECORDS && (line = reader.readLine()) != null) {
          if (line.isBlank()) {
            continue;
          }
          JsonNode object;
          try {
            object = JSON.readTree(line);
          } catch (IOException e) {
            continue;
          }
          if (object != null && object.isObject()) {
            collect("", object, types);
          }
        }
      }
    }
    return types;
  }

  private static void collect(String prefix, JsonNode object, Map<String, String> types) {
    Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String name = prefix + field.getKey();
      JsonNode value = field.getValue();
      if (value.isObject()) {
        collect(name + ".", value, types);
        continue;
      }
      String type;
      if (value.isNull()) {
        type = SourceTypes.NULL;
      } else if (value.isIntegralNumber()) {
        type = value.canConvertToInt() ? "int" : "long";
      } else if (value.isNumber()) {
        type = "decimal";
      } else if (value.isBoolean()) {
        type = "boolean";
      } else if (value.isTextual()) {
        type = SourceTypes.infer(value.asText());
      } else {
        type = "string";
      }
      types.merge(name, type, SourceTypes::widest);
    }
  }

  /**
   * A column of a JDBC table or query: its name, type and whether the driver says it may be null.
   */
  public record JdbcColumn(String name, String type, boolean nullable) {}

  /** The columns of a JDBC table or query as the driver reports them: name to type. */
  public static Map<String, String> jdbc(
      JdbcEndpoint endpoint, String table, String query, String initSqlPath)
      throws SQLException, IOException {
    Map<String, String> types = new LinkedHashMap<>();
    for (JdbcColumn column : jdbcColumns(endpoint, table, query, initSqlPath)) {
      types.put(column.name(), column.type());
    }
    return types;
  }

  /**
   * The columns of a JDBC table or query; {@code nullable} is true only where the driver knows the
   * column may be null (a query's computed columns are often unknown, so false).
   */
  public static List<JdbcColumn> jdbcColumns(
      JdbcEndpoint endpoint, String table, String query, String initSqlPath)
      throws SQLException, IOException {
    List<JdbcColumn> columns = new ArrayList<>();
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement()) {
      if (initSqlPath != null) {
        for (String sql :
            JdbcSource.statements(Files.readString(Path.of(initSqlPath), StandardCharsets.UTF_8))) {
          statement.execute(sql);
        }
      }
      String from = table != null ? endpoint.dialect().quote(table) : "(" + query + ") q";
      try (ResultSet result = statement.executeQuery("SELECT * FROM " + from + " WHERE 1 = 0")) {
        ResultSetMetaData meta = result.getMetaData();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
          columns.add(
              new JdbcColumn(
                  meta.getColumnName(c),
                  type(meta.getColumnType(c), meta.getColumnTypeName(c)),
                  meta.isNullable(c) == ResultSetMetaData.columnNullable));
        }
      }
    }
    return columns;
  }

  /** The type family of a JDBC column: int, long, decimal, boolean, date, timestamp, string. */
  public static String type(int sqlType, String typeName) {
    switch (sqlType) {
      case Types.TINYINT:
      case Types.SMALLINT:
      case Types.INTEGER:
        return "int";
      case Types.BIGINT:
        return "long";
      case Types.DECIMAL:
      case Types.NUMERIC:
      case Types.REAL:
      case Types.FLOAT:
      case Types.DOUBLE:
        return "decimal";
      case Types.BOOLEAN:
      case Types.BIT:
        return "boolean";
      case Types.DATE:
        return "date";
      case Types.TIMESTAMP:
      case Types.TIMESTAMP_WITH_TIMEZONE:
        return "timestamp";
      default:
        String name = typeName == null ? "" : typeName.toLowerCase(Locale.ROOT);
        if (name.equals("bool")) {
          return "boolean";
        }
        return name.startsWith("timestamp") ? "timestamp" : "string";
    }
  }

  private static List<String> files(String filepattern) throws IOException {
    List<String> files = new ArrayList<>();
    MatchResult match = FileSystems.match(filepattern);
    if (match.status() == MatchResult.Status.OK) {
      for (MatchResult.Metadata file : match.metadata()) {
        files.add(file.resourceId().toString());
      }
    }
    files.sort(null);
    return files;
  }

  private static BufferedReader open(String file) throws IOException {
    return new BufferedReader(
        new InputStreamReader(
            Channels.newInputStream(FileSystems.open(FileSystems.matchNewResource(file, false))),
            StandardCharsets.UTF_8));
  }
}
