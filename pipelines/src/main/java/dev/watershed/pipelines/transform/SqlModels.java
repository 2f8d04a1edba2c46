package dev.watershed.pipelines.transform;

import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecError;
import dev.watershed.pipelines.config.SqlModelsSpec;
import dev.watershed.pipelines.config.TableSink;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;
import org.apache.calcite.sql.parser.babel.SqlBabelParserImpl;
import org.apache.calcite.sql.validate.SqlConformanceEnum;

/**
 * The SQL models of a spec ({@code models_sql:}), read from their folder, each checked by Apache
 * Calcite's Babel parser (which reads PostgreSQL's and DuckDB's syntax) to be one query, and put in
 * the order their {@code ref}s give: a model after every model it refers to.
 */
public final class SqlModels {
  /**
   * A SQL model: its {@code name} (the file's), where it is, its template, how it is materialized,
   * the key and the column an incremental one merges by and filters on, and the names it refers to,
   * SQL models or tables of the warehouse.
   */
  public record SqlModel(
      String name,
      Path file,
      SqlTemplate template,
      String materialized,
      List<String> uniqueKey,
      String incrementalColumn,
      List<String> refs) {}

  /** Calcite's Babel parser, which reads PostgreSQL's and DuckDB's syntax. */
  static final SqlParser.Config PARSER =
      SqlParser.config()
          .withParserFactory(SqlBabelParserImpl.FACTORY)
          .withConformance(SqlConformanceEnum.BABEL)
          .withCaseSensitive(false);

  private final Spec spec;
  private final TableSink sink;
  private final Map<String, SqlModel> models;

  private SqlModels(Spec spec, TableSink sink, Map<String, SqlModel> models) {
    this.spec = spec;
    this.sink = sink;
    this.models = models;
  }

  /** The models in the order they run: each after the SQL models it refers to. */
  public List<SqlModel> inOrder() {
    return List.copyOf(models.values());
  }

  public TableSink sink() {
    return sink;
  }

  public Spec spec() {
    return spec;
  }

  public boolean isModel(String name) {
    return models.containsKey(name);
  }

  /**
   * Reads and checks the spec's SQL models.
   *
   * @throws IllegalArgumentException with every problem, one per line, each naming the file
   */
  public static SqlModels load(Spec spec) {
    SqlModelsSpec section = spec.sqlModels();
    SinkConfig sinkConfig = spec.sinks().get(section.sink());
    TableSink sink = (TableSink) sinkConfig;
    Path folder = Path.of(spec.resolve(section.path()));
    List<String> problems = new ArrayList<>();
    if (!Files.isDirectory(folder)) {
      throw new IllegalArgumentException(
          "models_sql: the folder "
              + folder
              + " is not there; create it with one SELECT per .sql file");
    }
    Map<String, SqlModel> read = new TreeMap<>();
    List<Path> files;
    try (Stream<Path> list = Files.list(folder)) {
      files = list.filter(f -> f.toString().endsWith(".sql")).sorted().toList();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "models_sql: cannot read " + folder + ": " + e.getMessage());
    }
    for (Path file : files) {
      String fileName = file.getFileName().toString();
      String name = fileName.substring(0, fileName.length() - 4);
      String where = section.path().replaceFirst("/*$", "/") + fileName;
      if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        problems.add(where + ": '" + name + "' is not a table name; use letters, digits and _");
        continue;
      }
      try {
        read.put(name, model(spec, section, name, file, where));
      } catch (IllegalArgumentException | IOException e) {
        problems.add(where + ": " + e.getMessage());
      }
    }
    if (files.isEmpty()) {
      problems.add("models_sql: " + folder + " holds no .sql file");
    }
    Set<String> loaded = new LinkedHashSet<>(spec.modelsOf(sink));
    for (SqlModel model : read.values()) {
      if (loaded.contains(model.name())) {
        problems.add(
            model.file().getFileName()
                + ": '"
                + model.name()
                + "' is a model the run loads into "
                + sink.name()
                + "; name the SQL model otherwise");
      }
      for (String ref : model.refs()) {
        if (!read.containsKey(ref) && !isWarehouseTable(ref, loaded)) {
          problems.add(
              model.file().getFileName()
                  + ": ref('"
                  + ref
                  + "') names no SQL model and no table the run loads into "
                  + sink.name()
                  + "; SQL models: "
                  + String.join(", ", read.keySet())
                  + "; loaded: "
                  + String.join(", ", loaded));
        }
      }
    }
    for (String tested : section.tests().keySet()) {
      if (!read.containsKey(tested)) {
        problems.add(
            "models_sql.tests: no SQL model '"
                + tested
                + "'; SQL models: "
                + String.join(", ", read.keySet()));
      }
    }
    Map<String, SqlModel> ordered = Map.of();
    try {
      ordered = ordered(read);
    } catch (IllegalArgumentException e) {
      problems.add(e.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("\n", problems));
    }
    return new SqlModels(spec, sink, ordered);
  }

  /**
   * The spec's SQL models checked ({@link #load}), as spec errors at the {@code models_sql:} line;
   * none when the spec has no SQL models or they are fine.
   */
  public static List<SpecError> check(Spec spec) {
    if (spec.sqlModels() == null) {
      return List.of();
    }
    try {
      load(spec);
      return List.of();
    } catch (IllegalArgumentException e) {
      List<SpecError> errors = new ArrayList<>();
      for (String problem : e.getMessage().split("\n")) {
        errors.add(new SpecError("models_sql", spec.sqlModels().line(), problem));
      }
      return errors;
    }
  }

  /** A model the run loads into the sink, or one of its companions (customer_golden, ...). */
  static boolean isWarehouseTable(String name, Set<String> loaded) {
    for (String model : loaded) {
      if (name.equals(model) || name.startsWith(model + "_")) {
        return true;
      }
    }
    return false;
  }

  private static SqlModel model(
      Spec spec, SqlModelsSpec section, String name, Path file, String where) throws IOException {
    SqlTemplate template = SqlTemplate.parse(Files.readString(file, StandardCharsets.UTF_8));
    String materialized = section.materialized();
    List<String> uniqueKey = List.of();
    String incrementalColumn = null;
    Set<String> refs = new LinkedHashSet<>();
    for (SqlTemplate.Part part : template.parts()) {
      SqlTemplate.Block block = part.block();
      if (block == null) {
        continue;
      }
      switch (block.function()) {
        case "ref" -> {
          if (block.args().size() != 1 || !block.named().isEmpty()) {
            throw new IllegalArgumentException(
                "line " + block.line() + ": ref takes one name: {{ ref('customer') }}");
          }
          refs.add(block.args().get(0));
        }
        case "this" -> {}
        case "config" -> {
          for (String[] setting : block.named()) {
            switch (setting[0]) {
              case "materialized" -> {
                if (!SqlModelsSpec.MATERIALIZATIONS.contains(setting[1])) {
                  throw new IllegalArgumentException(
                      "line "
                          + block.line()
                          + ": '"
                          + setting[1]
                          + "' is not a materialization; use "
                          + String.join(", ", SqlModelsSpec.MATERIALIZATIONS));
                }
                materialized = setting[1];
              }
              case "unique_key" -> uniqueKey = List.of(setting[1].split("\\s*,\\s*"));
              case "incremental_column" -> incrementalColumn = setting[1];
              default ->
                  throw new IllegalArgumentException(
                      "line "
                          + block.line()
                          + ": config takes materialized, unique_key and incremental_column, not "
                          + setting[0]);
            }
          }
        }
        default ->
            throw new IllegalArgumentException(
                "line "
                    + block.line()
                    + ": {{ "
                    + block.function()
                    + "(...) }} is not known; use ref('name'), config(...) or this");
      }
    }
    if (materialized.equals("incremental") && uniqueKey.isEmpty()) {
      throw new IllegalArgumentException(
          "an incremental model needs its unique_key: {{ config(materialized='incremental',"
              + " unique_key='id') }}");
    }
    // The query itself, with each block as a plain name, must be one SELECT.
    String probe =
        template.render(
            b ->
                switch (b.function()) {
                  case "ref" -> "\"" + b.args().get(0) + "\"";
                  case "this" -> "\"" + name + "\"";
                  default -> "";
                });
    parseQuery(probe);
    return new SqlModel(
        name, file, template, materialized, uniqueKey, incrementalColumn, List.copyOf(refs));
  }

  /** Parses one query (SELECT, WITH, UNION, ...) as PostgreSQL and DuckDB write it. */
  static SqlNode parseQuery(String sql) {
    SqlNode node;
    try {
      node = SqlParser.create(sql.strip().replaceFirst(";\\s*$", ""), PARSER).parseStmt();
    } catch (SqlParseException e) {
      String message = e.getMessage() == null ? "" : e.getMessage().split("\\R")[0];
      throw new IllegalArgumentException("not a query Calcite's parser can read: " + message);
    }
    if (!node.getKind().belongsTo(SqlKind.QUERY) && node.getKind() != SqlKind.ORDER_BY) {
      throw new IllegalArgumentException(
          "a SQL model is one query (SELECT, WITH, ...), not " + node.getKind());
    }
    return node;
  }

  /** Orders the models so that each comes after the SQL models it refers to. */
  private static Map<String, SqlModel> ordered(Map<String, SqlModel> models) {
    Map<String, SqlModel> out = new LinkedHashMap<>();
    Set<String> visiting = new LinkedHashSet<>();
    for (String name : models.keySet()) {
      visit(name, models, out, visiting);
    }
    return out;
  }

  private static void visit(
      String name, Map<String, SqlModel> models, Map<String, SqlModel> out, Set<String> visiting) {
    if (out.containsKey(name) || !models.containsKey(name)) {
      return;
    }
    if (!visiting.add(name)) {
      List<String> cycle = new ArrayList<>(visiting);
      cycle = cycle.subList(cycle.indexOf(name), cycle.size());
      throw new IllegalArgumentException(
          "models_sql: the refs go round in a circle: "
              + String.join(" -> ", cycle)
              + " -> "
              + name);
    }
    for (String ref : models.get(name).refs()) {
      visit(ref, models, out, visiting);
    }
    visiting.remove(name);
    out.put(name, models.get(name));
  }

  /** Every model that depends, directly or not, on {@code name}. */
  Set<String> dependantsOf(String name) {
    Set<String> out = new LinkedHashSet<>();
    boolean grew = true;
    while (grew) {
      grew = false;
      for (SqlModel model : models.values()) {
        if (!out.contains(model.name())
            && model.refs().stream().anyMatch(r -> r.equals(name) || out.contains(r))) {
          out.add(model.name());
          grew = true;
        }
      }
    }
    return out;
  }
}
