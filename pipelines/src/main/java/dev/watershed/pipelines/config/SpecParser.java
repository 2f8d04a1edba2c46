package dev.watershed.pipelines.config;

import dev.watershed.io.WriteMode;
import dev.watershed.io.files.CsvFormat;
import dev.watershed.io.files.CsvSource;
import dev.watershed.io.jdbc.Dialect;
import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.dedupe.Dedupe;
import dev.watershed.transforms.identity.BlockingKey;
import dev.watershed.transforms.identity.Comparison;
import dev.watershed.transforms.identity.FellegiSunter;
import dev.watershed.transforms.identity.ResolveIdentities;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.quality.Expression;
import dev.watershed.transforms.quality.QualityRule;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads an integration spec from YAML into a validated, immutable {@link Spec}.
 *
 * <p>Every problem is reported at once, each naming its YAML path and line: unknown keys, missing
 * keys, bad types and values, references to sources, models and fields that do not exist, source
 * files that match nothing and CSV columns missing from the header. Nothing is run and no database
 * is contacted.
 *
 * <pre>{@code
 * Spec spec = SpecParser.parse(Path.of("integration.yaml"), Path.of("."), System.getenv());
 * }</pre>
 */
public final class SpecParser {
  static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  static final Set<String> SOURCE_TYPES =
      Set.of("csv", "jsonl", "json", "parquet", "jdbc", "kafka");
  static final Set<String> SINK_TYPES =
      Set.of("duckdb", "postgres", "mariadb", "parquet", "jsonl", "csv", "kafka", "bigquery");
  static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private final List<SpecError> errors = new ArrayList<>();
  private Set<String> declaredSources = Set.of();
  private Set<String> declaredModels = Set.of();
  // Sources with a drift policy: their columns may come and go, so the header is not checked.
  private final Set<String> driftManaged = new HashSet<>();

  /** Files whose unreadable header was reported already (several conform entries read one). */
  private final Set<Path> checkedHeaders = new HashSet<>();

  /** Files of one CSV source whose headers are read by the checks; more are read by the run. */
  private static final int MAX_HEADERS_CHECKED = 1000;

  private final References references;
  private final Path baseDir;
  private String modeOverride;

  private SpecParser(Path baseDir, Map<String, String> environment) {
    this.baseDir = baseDir.toAbsolutePath().normalize();
    this.references = new References(environment, this.baseDir, errors);
  }

  /**
   * Parses the spec file; relative paths in it are taken from {@code baseDir}.
   *
   * @throws SpecException listing every problem found
   */
  public static Spec parse(Path file, Path baseDir, Map<String, String> environment)
      throws SpecException {
    return parse(file, baseDir, environment, null);
  }

  /**
   * As {@link #parse(Path, Path, Map)}, run in {@code mode} (one of {@link Spec#MODES}) whatever
   * the spec's {@code mode:} says; null keeps the spec's.
   */
  public static Spec parse(Path file, Path baseDir, Map<String, String> environment, String mode)
      throws SpecException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new SpecException(
          List.of(new SpecError(file.toString(), 0, "spec file not found; check the path")));
    } catch (IOException e) {
      throw new SpecException(
          List.of(
              new SpecError(file.toString(), 0, "cannot read the spec file: " + e.getMessage())));
    }
    return parse(text, baseDir, environment, mode);
  }

  /** Parses spec text; see {@link #parse(Path, Path, Map)}. */
  public static Spec parse(String yaml, Path baseDir, Map<String, String> environment)
      throws SpecException {
    return parse(yaml, baseDir, environment, null);
  }

  /**
   * Parses spec text in {@code mode} (null keeps the spec's); see {@link #parse(Path, Path, Map)}.
   */
  public static Spec parse(String yaml, Path baseDir, Map<String, String> environment, String mode)
      throws SpecException {
    SpecParser parser = new SpecParser(baseDir, environment);
    parser.modeOverride = mode;
    return parser.read(new StringReader(yaml));
  }

  private Spec read(Reader reader) throws SpecException {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      root = new Yaml(options).compose(reader);
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new SpecException(
          List.of(new SpecError("(yaml)", line, "not valid YAML: " + e.getProblem())));
    } catch (YAMLException e) {
      throw new SpecException(
          List.of(new SpecError("(yaml)", 0, "not valid YAML: " + e.getMessage())));
    }
    if (root == null) {
      throw new SpecException(List.of(new SpecError("(root)", 1, "the spec is empty")));
    }
    YamlObject top = YamlObject.of("", root, errors, references);
    if (!errors.isEmpty()) {
      throw new SpecException(errors, references.secrets());
    }
    top.rejectUnknown(
        Set.of(
            "name",
            "mode",
            "every",
            "streaming",
            "sources",
            "models",
            "conform",
            "dedupe",
            "quality",
            "identity",
            "history",
            "sinks",
            "dead_letter",
            "report"));
    String name = top.string("name", true);
    if (name != null && !IDENTIFIER.matcher(name).matches()) {
      top.error("name", "'" + name + "' is not a valid name; use letters, digits and _");
    }
    String mode = modeOverride != null ? modeOverride : top.string("mode", "batch");
    if (!Spec.MODES.contains(mode)) {
      top.error(
          "mode",
          "mode '" + mode + "' is not available; allowed: " + String.join(", ", Spec.MODES));
    }
    Spec.Timing timing = timing(top);
    Map<String, SourceSpec> sources = sources(top.object("sources", true));
    Map<String, CanonicalModel> models = models(top.object("models", true));
    // Names declared, even where their declaration has errors: a reference to a broken source or
    // model is not a second problem.
    declaredSources = top.object("sources", false).keys();
    declaredModels = top.object("models", false).keys();
    List<ConformSpec> conform = conform(top, sources, models);
    models = withChangeStreams(top, models, sources, conform);
    Map<String, DedupeSpec> dedupe = dedupe(top.object("dedupe", false), models);
    Map<String, SinkSpec> sinks = sinks(top.object("sinks", true), models);
    Map<String, IdentitySpec> identity = identity(top.object("identity", false), models);
    Map<String, HistorySpec> history = history(top.object("history", false), models, dedupe);
    DeadLetterSpec deadLetter = deadLetter(top.object("dead_letter", false));
    Map<String, List<QualityRule>> quality =
        QualitySpecs.parse(top.object("quality", false), models, declaredModels);
    YamlObject report = top.object("report", false);
    report.rejectUnknown(Set.of("path"));
    String reportPath = report.string("path", "target/report");
    for (String model : models.keySet()) {
      if (conform.stream().noneMatch(c -> model.equals(c.to()))) {
        errors.add(
            new SpecError(
                "models." + model,
                top.object("models", false).lineOf(model),
                "no conform entry produces model '"
                    + model
                    + "'; add one under conform: with 'to: "
                    + model
                    + "'"));
      }
    }
    checkMode(top, mode, sources, models, conform, sinks, identity, history, quality, deadLetter);
    if (!errors.isEmpty()) {
      throw new SpecException(errors, references.secrets());
    }
    return new Spec(
        name,
        mode,
        sources,
        models,
        conform,
        dedupe,
        quality,
        identity,
        history,
        sinks,
        deadLetter,
        reportPath,
        Set.copyOf(references.secrets()),
        baseDir,
        timing);
  }

  /** {@code every:} and {@code streaming:}, with their defaults. */
  private Spec.Timing timing(YamlObject top) {
    Duration every = duration(top, "every", Spec.Timing.DEFAULT.every());
    YamlObject streaming = top.object("streaming", false);
    streaming.rejectUnknown(Set.of("checkpoint_every", "state_ttl"));
    return new Spec.Timing(
        every,
        duration(streaming, "checkpoint_every", Spec.Timing.DEFAULT.checkpointEvery()),
        duration(streaming, "state_ttl", Spec.Timing.DEFAULT.stateTtl()));
  }

  private static Duration duration(YamlObject object, String key, Duration fallback) {
    String text = object.string(key, false);
    if (text == null) {
      return fallback;
    }
    try {
      return parseDuration(text);
    } catch (IllegalArgumentException e) {
      object.error(key, e.getMessage());
      return fallback;
    }
  }

  /**
   * A duration as a spec or the command line writes it: a positive whole number and a unit, {@code
   * ms}, {@code s}, {@code m}, {@code h} or {@code d}.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration; write e.g. 500ms, 30s, 5m, 1h or 1d");
    }
    long n = Long.parseLong(m.group(1));
    switch (m.group(2)) {
      case "ms":
        return Duration.ofMillis(n);
      case "s":
        return Duration.ofSeconds(n);
      case "m":
        return Duration.ofMinutes(n);
      case "h":
        return Duration.ofHours(n);
      default:
        return Duration.ofDays(n);
    }
  }

  /**
   * Models fed by a change stream (a {@code debezium-json} Kafka source) carry change metadata, and
   * are loaded as upserts and deletes; they cannot also be fed by sources that are not change
   * streams, nor keep history or resolve identities yet.
   */
  private Map<String, CanonicalModel> withChangeStreams(
      YamlObject top,
      Map<String, CanonicalModel> models,
      Map<String, SourceSpec> sources,
      List<ConformSpec> conform) {
    Map<String, CanonicalModel> out = new LinkedHashMap<>(models);
    for (CanonicalModel model : models.values()) {
      List<SourceSpec> feeding = new ArrayList<>();
      for (ConformSpec entry : conform) {
        if (entry.to().equals(model.name()) && sources.containsKey(entry.from())) {
          feeding.add(sources.get(entry.from()));
        }
      }
      long changeStreams =
          feeding.stream().filter(f -> f.kafka() != null && f.kafka().isChangeStream()).count();
      if (changeStreams == 0) {
        continue;
      }
      if (changeStreams < feeding.size()) {
        top.object("models", false)
            .error(
                model.name(),
                "model '"
                    + model.name()
                    + "' is fed by change streams and by other sources; feed it from change"
                    + " streams only, or conform the others to a model of their own");
      }
      out.put(model.name(), model.withChanges());
    }
    return out;
  }

  /** What each mode needs of sources and sinks. */
  /**
   * An overwrite replaces a destination with what one run read; a source read in part (an
   * incremental JDBC source, a Kafka topic from its stored offsets) gives a run only what changed
   * since the last, so the destination would lose every earlier row.
   */
  private static void checkOverwritesReadEverything(
      YamlObject top,
      Map<String, SourceSpec> sources,
      Map<String, CanonicalModel> models,
      List<ConformSpec> conform,
      Map<String, SinkSpec> sinks) {
    for (SinkSpec sink : sinks.values()) {
      if (sink.mode() != WriteMode.OVERWRITE) {
        continue;
      }
      List<String> written = sink.models().isEmpty() ? List.copyOf(models.keySet()) : sink.models();
      for (ConformSpec entry : conform) {
        SourceSpec source = sources.get(entry.from());
        if (!written.contains(entry.to())
            || source == null
            || (source.incremental() == null && source.kafka() == null)) {
          continue;
        }
        top.object("sinks", false)
            .error(
                sink.name(),
                "sink '"
                    + sink.name()
                    + "' overwrites '"
                    + entry.to()
                    + "' with each run's rows, but source '"
                    + source.name()
                    + "' is read in part ("
                    + (source.kafka() != null
                        ? "a topic, from the offsets stored by the last run"
                        : "incremental, past the stored mark")
                    + "): every run would drop the rows of earlier runs. Set write: append"
                    + (sink.isTable() ? " or write: merge" : "")
                    + ", or read the source whole");
      }
    }
  }

  private void checkMode(
      YamlObject top,
      String mode,
      Map<String, SourceSpec> sources,
      Map<String, CanonicalModel> models,
      List<ConformSpec> conform,
      Map<String, SinkSpec> sinks,
      Map<String, IdentitySpec> identity,
      Map<String, HistorySpec> history,
      Map<String, List<QualityRule>> quality,
      DeadLetterSpec deadLetter) {
    checkOverwritesReadEverything(top, sources, models, conform, sinks);
    for (CanonicalModel model : models.values()) {
      HistorySpec kept = history.get(model.name());
      if (kept != null && !kept.strategy().equals("changes") && !kept.deletes().equals("ignore")) {
        for (ConformSpec entry : conform) {
          SourceSpec source = sources.get(entry.from());
          if (entry.to().equals(model.name())
              && source != null
              && (source.incremental() != null || source.kafka() != null)) {
            top.error(
                "history",
                "history of '"
                    + model.name()
                    + "' detects deletes from a full snapshot, but source '"
                    + source.name()
                    + "' is read in part (incremental or a topic); set deletes: ignore");
          }
        }
      }
      boolean included =
          identity.values().stream().anyMatch(i -> i.include().containsKey(model.name()));
      if (model.tracksChanges() && (identity.containsKey(model.name()) || included)) {
        top.error(
            "identity",
            "model '"
                + model.name()
                + "' is fed by a change stream; identity resolution of change streams is not"
                + " available yet");
      }
    }
    for (IdentitySpec resolved : identity.values()) {
      for (SinkSpec sink : sinks.values()) {
        boolean writesModel =
            sink.isTable() && (sink.models().isEmpty() || sink.models().contains(resolved.model()));
        for (String other : resolved.include().keySet()) {
          if (writesModel && !sink.models().isEmpty() && !sink.models().contains(other)) {
            top.object("sinks", false)
                .error(
                    sink.name(),
                    "identity of '"
                        + resolved.model()
                        + "' includes '"
                        + other
                        + "', so a table sink writing '"
                        + resolved.model()
                        + "' must write '"
                        + other
                        + "' too (later runs match against it)");
          }
        }
      }
    }
    if (mode.equals("batch")) {
      return;
    }
    for (SourceSpec source : sources.values()) {
      boolean ok =
          mode.equals("streaming")
              ? source.type().equals("kafka")
              : source.type().equals("kafka") || source.incremental() != null;
      if (!ok) {
        top.object("sources", false)
            .error(
                source.name(),
                mode.equals("streaming")
                    ? "in streaming mode every source is a kafka topic; read '"
                        + source.name()
                        + "' in batch or micro-batch mode"
                    : "in micro-batch mode every source is a kafka topic or an incremental jdbc"
                        + " source (add incremental: { column: ..., tie_break: ... })");
      }
      if (mode.equals("micro-batch")) {
        boolean kept =
            conform.stream()
                .filter(c -> c.from().equals(source.name()))
                .anyMatch(
                    c ->
                        sinks.values().stream()
                            .anyMatch(
                                s ->
                                    s.isTable()
                                        && (s.models().isEmpty() || s.models().contains(c.to()))));
        if (!kept) {
          top.object("sources", false)
              .error(
                  source.name(),
                  "micro-batch keeps where '"
                      + source.name()
                      + "' was read up to in a table sink (duckdb, postgres, mariadb); add one");
        }
      }
    }
    if (mode.equals("streaming")) {
      if (!identity.isEmpty() || !history.isEmpty()) {
        top.error(
            identity.isEmpty() ? "history" : "identity",
            "identity resolution and history run in batch and micro-batch mode, not streaming");
      }
      for (Map.Entry<String, List<QualityRule>> rules : quality.entrySet()) {
        for (QualityRule rule : rules.getValue()) {
          boolean allRows =
              !rule.kind().isRowRule()
                  || rule.kind() == QualityRule.Kind.UNIQUE
                  || rule.kind() == QualityRule.Kind.RELATIONSHIPS;
          if (allRows) {
            top.error(
                "quality",
                "rule "
                    + rule.name()
                    + " of "
                    + rules.getKey()
                    + " judges all rows together; in streaming mode only row rules run"
                    + " (not_null, accepted_values, regex, range, expression)");
          } else if (rule.onFailure() == QualityRule.OnFailure.FAIL) {
            top.error(
                "quality",
                "rule "
                    + rule.name()
                    + " of "
                    + rules.getKey()
                    + ": on_failure: fail stops a whole run, which a stream does not have; use"
                    + " dead_letter, drop or warn");
          }
        }
      }
      if (deadLetter.isTable()) {
        top.error(
            "dead_letter",
            "in streaming mode dead letters go to JSON lines (type: jsonl) or a kafka topic");
      }
      for (SinkSpec sink : sinks.values()) {
        if (!sink.isTable() && !sink.type().equals("kafka")) {
          top.object("sinks", false)
              .error(
                  sink.name(),
                  "in streaming mode sinks are tables (duckdb, postgres, mariadb) or kafka topics");
        } else if (sink.isTable() && sink.mode() != WriteMode.MERGE) {
          top.object("sinks", false)
              .error(sink.name(), "in streaming mode table sinks merge; set write: merge");
        }
      }
    }
  }

  /** A CSV source's format: RFC 4180 unless its keys say otherwise. */
  private static CsvFormat csvFormat(YamlObject source) {
    CsvFormat format = CsvFormat.rfc4180();
    Character delimiter = oneCharacter(source, "delimiter", ",");
    Character quote = oneCharacter(source, "quote", "\"");
    Character escape = oneCharacter(source, "escape", null);
    Character comment = oneCharacter(source, "comment", null);
    String header = source.string("header", "true");
    if (!header.equals("true") && !header.equals("false")) {
      source.error("header", "expected true or false, got '" + header + "'");
    }
    List<String> columns = source.strings("columns");
    if (!columns.isEmpty() && header.equals("true")) {
      source.error(
          "columns", "columns name the fields of a file without a header; set header: false");
    }
    String encoding = source.string("encoding", "UTF-8");
    try {
      if (!CsvFormat.asciiCompatible(Charset.forName(encoding))) {
        source.error(
            "encoding",
            "encoding "
                + encoding
                + " is not supported for CSV: use one whose ASCII characters are single bytes"
                + " (UTF-8, ISO-8859-1, windows-1252, ...), or convert the file to UTF-8");
        return format;
      }
    } catch (IllegalArgumentException e) {
      source.error(
          "encoding", "unknown encoding '" + encoding + "'; e.g. UTF-8, ISO-8859-1, windows-1252");
      return format;
    }
    int maxRecordBytes = source.integer("max_record_bytes", CsvFormat.DEFAULT_MAX_RECORD_BYTES);
    try {
      format =
          new CsvFormat(
              delimiter == null ? ',' : delimiter,
              quote == null ? '"' : quote,
              escape == null ? (quote == null ? '"' : quote) : escape,
              comment == null ? (char) 0 : comment,
              header.equals("true"),
              columns.isEmpty() ? null : columns,
              encoding,
              maxRecordBytes,
              false);
    } catch (IllegalArgumentException e) {
      // Characters that collide (a delimiter that is also the quote, ...).
      source.error(null, e.getMessage());
    }
    String invalid = source.string("on_invalid_encoding", "dead_letter");
    if (invalid.equals("replace")) {
      format = format.replacingInvalidBytes();
    } else if (!invalid.equals("dead_letter")) {
      source.error(
          "on_invalid_encoding",
          "unknown value '" + invalid + "'; allowed: dead_letter (default), replace");
    }
    return format;
  }

  /** One character under {@code key} ({@code tab} and {@code \t} name a tab), or the fallback. */
  private static Character oneCharacter(YamlObject source, String key, String fallback) {
    String text = source.string(key, fallback);
    if (text == null) {
      return null;
    }
    if (text.equals("\\t") || text.equals("tab")) {
      text = "\t";
    }
    if (text.length() != 1 || text.charAt(0) > 127 || text.equals("\n") || text.equals("\r")) {
      source.error(key, "expected one ASCII character (or 'tab'), got '" + text + "'");
      return null;
    }
    return text.charAt(0);
  }

  private Map<String, SourceSpec> sources(YamlObject section) {
    Map<String, SourceSpec> out = new LinkedHashMap<>();
    if (section.keys().isEmpty() && section.line() > 0) {
      section.error(null, "declare at least one source");
    }
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject source = entry.getValue();
      checkName(section, name, "source");
      String type = source.string("type", true);
      if (type == null) {
        source.rejectUnknown(
            Set.of(
                "type",
                "path",
                "delimiter",
                "quote",
                "escape",
                "comment",
                "header",
                "columns",
                "encoding",
                "max_record_bytes",
                "on_invalid_encoding",
                "records_at",
                "url",
                "user",
                "password",
                "table",
                "query",
                "key",
                "init_sql",
                "fetch_size",
                "schema",
                "drift",
                "incremental",
                "bootstrap_servers",
                "topic",
                "format",
                "group"));
        continue;
      }
      if (!SOURCE_TYPES.contains(type)) {
        source.error(
            "type", "unknown source type '" + type + "'; allowed: " + sorted(SOURCE_TYPES));
        continue;
      }
      CsvFormat csv = null;
      String recordsAt = "";
      int maxRecordBytes = CsvFormat.DEFAULT_MAX_RECORD_BYTES;
      String path = null;
      String url = null;
      String user = null;
      String password = null;
      String table = null;
      String query = null;
      String initSql = null;
      List<String> key = List.of();
      int fetchSize = 10_000;
      SourceSpec.Kafka kafka = null;
      SourceSpec.Incremental incremental = null;
      if (type.equals("kafka")) {
        source.rejectUnknown(
            Set.of("type", "bootstrap_servers", "topic", "format", "group", "timeout"));
        String format = source.string("format", "json");
        if (!format.equals("json") && !format.equals("debezium-json")) {
          source.error("format", "unknown format '" + format + "'; allowed: debezium-json, json");
        }
        kafka =
            new SourceSpec.Kafka(
                source.string("bootstrap_servers", true),
                source.string("topic", true),
                format,
                source.string("group", "watershed-" + name),
                duration(source, "timeout", SourceSpec.Kafka.DEFAULT_TIMEOUT));
      } else if (type.equals("jdbc")) {
        source.rejectUnknown(
            Set.of(
                "type",
                "url",
                "user",
                "password",
                "table",
                "query",
                "key",
                "init_sql",
                "fetch_size",
                "schema",
                "drift",
                "incremental"));
        url = source.string("url", true);
        if (url != null) {
          try {
            Dialect.of(url);
          } catch (IllegalArgumentException e) {
            source.error("url", e.getMessage());
          }
        }
        user = source.string("user", false);
        password = source.string("password", false);
        table = source.string("table", false);
        query = source.string("query", false);
        if ((table == null) == (query == null)) {
          source.error(null, "give exactly one of 'table' and 'query'");
        }
        key = source.strings("key");
        initSql = source.string("init_sql", false);
        if (initSql != null && !Files.isRegularFile(baseDir.resolve(initSql))) {
          source.error(
              "init_sql", "file " + initSql + " not found (paths are relative to " + baseDir + ")");
        }
        fetchSize = source.integer("fetch_size", 10_000);
        if (fetchSize < 1) {
          source.error("fetch_size", "must be at least 1");
        }
        if (source.has("incremental")) {
          YamlObject inc = source.object("incremental", true);
          inc.rejectUnknown(Set.of("column", "tie_break"));
          String column = inc.string("column", true);
          String tieBreak = inc.string("tie_break", true);
          if (column != null && tieBreak != null) {
            incremental = new SourceSpec.Incremental(column, tieBreak);
          }
        }
      } else {
        Set<String> allowed =
            type.equals("csv")
                ? Set.of(
                    "type",
                    "path",
                    "schema",
                    "drift",
                    "delimiter",
                    "quote",
                    "escape",
                    "comment",
                    "header",
                    "columns",
                    "encoding",
                    "on_invalid_encoding",
                    "max_record_bytes")
                : type.equals("json")
                    ? Set.of("type", "path", "schema", "drift", "records_at", "max_record_bytes")
                    : type.equals("jsonl")
                        ? Set.of("type", "path", "schema", "drift", "max_record_bytes")
                        : Set.of("type", "path", "schema", "drift");
        source.rejectUnknown(allowed);
        maxRecordBytes = source.integer("max_record_bytes", CsvFormat.DEFAULT_MAX_RECORD_BYTES);
        if (maxRecordBytes < 1) {
          source.error("max_record_bytes", "expected a positive number of bytes");
        }
        recordsAt = source.string("records_at", "");
        if (!recordsAt.isEmpty() && !recordsAt.startsWith("/")) {
          source.error(
              "records_at",
              "expected a JSON pointer to the records' array, such as /data; got '"
                  + recordsAt
                  + "'");
        }
        path = source.string("path", true);
        if (path != null) {
          checkFilesExist(source, path);
        }
        if (type.equals("csv")) {
          csv = csvFormat(source);
        }
      }
      out.put(
          name,
          new SourceSpec(
              name,
              type,
              source.line(),
              path,
              csv,
              recordsAt,
              maxRecordBytes,
              url,
              user,
              password,
              table,
              query,
              key,
              initSql,
              fetchSize,
              declaredSchema(source),
              driftPolicy(source),
              kafka,
              incremental));
    }
    return out;
  }

  private static Map<String, String> declaredSchema(YamlObject source) {
    Map<String, String> schema = new LinkedHashMap<>();
    YamlObject declared = source.object("schema", false);
    for (String column : declared.keys()) {
      String type = declared.string(column, true);
      if (type == null) {
        continue;
      }
      try {
        ModelTypes.field("column", type);
        schema.put(column, type);
      } catch (IllegalArgumentException e) {
        declared.error(column, e.getMessage());
      }
    }
    return schema;
  }

  private String driftPolicy(YamlObject source) {
    if (source.has("drift")) {
      driftManaged.add(source.path().substring(source.path().lastIndexOf('.') + 1));
    }
    String drift = source.string("drift", "allow");
    if (!SourceSpec.DRIFT_POLICIES.contains(drift)) {
      source.error(
          "drift",
          "unknown drift policy '" + drift + "'; allowed: allow, evolve, quarantine, fail");
      return "allow";
    }
    return drift;
  }

  private void checkFilesExist(YamlObject source, String path) {
    if (path.contains("://")) {
      return;
    }
    List<Path> matches = FileMatches.of(baseDir, path);
    if (matches.isEmpty()) {
      source.error(
          "path",
          "no file matches " + path + " (paths are relative to " + baseDir + "); check the path");
    }
  }

  private Map<String, CanonicalModel> models(YamlObject section) {
    Map<String, CanonicalModel> out = new LinkedHashMap<>();
    if (section.keys().isEmpty() && section.line() > 0) {
      section.error(null, "declare at least one model");
    }
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject model = entry.getValue();
      checkName(section, name, "model");
      model.rejectUnknown(Set.of("key", "fields"));
      YamlObject fields = model.object("fields", true);
      CanonicalModel.Builder builder = CanonicalModel.builder(name);
      boolean ok = true;
      for (String field : fields.keys()) {
        checkName(fields, field, "field");
        if (field.startsWith("_")) {
          fields.error(field, "field names starting with '_' are reserved for lineage columns");
          ok = false;
        }
        String type = fields.string(field, true);
        if (type == null) {
          ok = false;
          continue;
        }
        try {
          ModelTypes.field(field, type);
          builder.field(field, type);
        } catch (IllegalArgumentException e) {
          fields.error(field, e.getMessage());
          ok = false;
        }
      }
      List<String> key = model.strings("key");
      if (key.isEmpty()) {
        model.error(
            null, "missing required key 'key' (the field or fields that identify a " + name + ")");
        ok = false;
      }
      for (String k : key) {
        if (!fields.has(k)) {
          model.error("key", "key field '" + k + "' is not one of the fields " + fields.keys());
          ok = false;
        }
      }
      if (ok) {
        out.put(name, builder.key(key).build());
      }
    }
    return out;
  }

  private List<ConformSpec> conform(
      YamlObject top, Map<String, SourceSpec> sources, Map<String, CanonicalModel> models) {
    List<ConformSpec> out = new ArrayList<>();
    if (!top.has("conform")) {
      top.error(null, "missing required key 'conform'");
      return out;
    }
    for (YamlObject entry : top.list("conform")) {
      entry.rejectUnknown(Set.of("from", "to", "fields"));
      String from = entry.string("from", true);
      String to = entry.string("to", true);
      if (from != null && !declaredSources.contains(from)) {
        entry.error("from", "no source named '" + from + "'; sources: " + sources.keySet());
      }
      CanonicalModel model = to == null ? null : models.get(to);
      if (to != null && !declaredModels.contains(to)) {
        entry.error("to", "no model named '" + to + "'; models: " + models.keySet());
      }
      YamlObject fields = entry.object("fields", true);
      Map<String, FieldRule> rules = new LinkedHashMap<>();
      for (String field : fields.keys()) {
        if (model != null && !model.schema().hasField(field)) {
          fields.error(field, "model '" + to + "' has no field '" + field + "'");
          continue;
        }
        FieldRule rule = fieldRule(fields, field, model);
        if (rule != null) {
          rules.put(field, rule);
        }
      }
      if (model != null) {
        for (String key : model.key()) {
          if (!fields.has(key)) {
            entry.error("fields", "key field '" + key + "' of model '" + to + "' needs a rule");
          }
        }
      }
      SourceSpec source = from == null ? null : sources.get(from);
      if (source != null && source.type().equals("csv") && !driftManaged.contains(source.name())) {
        checkCsvColumns(fields, rules, source);
      }
      Map<String, Integer> fieldLines = new LinkedHashMap<>();
      for (String field : rules.keySet()) {
        fieldLines.put(field, fields.lineOf(field));
      }
      out.add(
          new ConformSpec(
              from, to, Collections.unmodifiableMap(rules), entry.line(), Map.copyOf(fieldLines)));
    }
    return out;
  }

  private FieldRule fieldRule(YamlObject fields, String field, CanonicalModel model) {
    Node node = fields.node(field);
    if (node instanceof ScalarNode) {
      String column = fields.string(field, true);
      return column == null ? null : FieldRule.from(column);
    }
    YamlObject spec = fields.object(field, true);
    spec.rejectUnknown(
        Set.of(
            "from",
            "value",
            "prefix",
            "normalize",
            "region",
            "formats",
            "zone",
            "decimal_separator"));
    String from = spec.string("from", false);
    String value = spec.string("value", false);
    if ((from == null) == (value == null)) {
      spec.error(null, "give exactly one of 'from' (a source column) and 'value' (a constant)");
      return null;
    }
    FieldRule rule = from != null ? FieldRule.from(from) : FieldRule.constant(value);
    String prefix = spec.string("prefix", false);
    ModelTypes.Kind kind = model == null ? null : ModelTypes.kind(model.schema().getField(field));
    if (prefix != null) {
      if (kind != null && kind != ModelTypes.Kind.STRING) {
        spec.error(
            "prefix",
            "a prefix needs a string field; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
      rule = rule.withPrefix(prefix);
    }
    List<FieldRule.Normalizer> normalizers = new ArrayList<>();
    for (String name : spec.strings("normalize")) {
      try {
        normalizers.add(FieldRule.Normalizer.named(name));
      } catch (IllegalArgumentException e) {
        spec.error("normalize", e.getMessage());
      }
    }
    rule = rule.withNormalizers(normalizers);
    if (kind != null) {
      if (normalizers.contains(FieldRule.Normalizer.AMOUNT)
          && kind != ModelTypes.Kind.DECIMAL
          && kind != ModelTypes.Kind.INT
          && kind != ModelTypes.Kind.LONG) {
        spec.error(
            "normalize",
            "'amount' needs a decimal, int or long field; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
      if (normalizers.contains(FieldRule.Normalizer.BOOLEAN) && kind != ModelTypes.Kind.BOOLEAN) {
        spec.error(
            "normalize",
            "'boolean' needs a boolean field; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
    }
    String region = spec.string("region", false);
    if (region != null) {
      try {
        rule = rule.withRegion(region);
      } catch (IllegalArgumentException e) {
        spec.error("region", e.getMessage());
      }
    }
    List<String> formats = spec.strings("formats");
    if (!formats.isEmpty()) {
      if (kind != null && kind != ModelTypes.Kind.DATE && kind != ModelTypes.Kind.TIMESTAMP) {
        spec.error(
            "formats",
            "formats apply to date and timestamp fields; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
      try {
        rule = rule.withFormats(formats);
      } catch (IllegalArgumentException e) {
        spec.error("formats", e.getMessage());
      }
    }
    String zone = spec.string("zone", false);
    if (zone != null) {
      try {
        rule = rule.withZone(zone);
      } catch (IllegalArgumentException e) {
        spec.error("zone", e.getMessage());
      }
    }
    String separator = spec.string("decimal_separator", false);
    if (separator != null) {
      try {
        if (separator.length() != 1) {
          throw new IllegalArgumentException("decimal separator must be '.' or ','");
        }
        rule = rule.withDecimalSeparator(separator.charAt(0));
      } catch (IllegalArgumentException e) {
        spec.error("decimal_separator", e.getMessage());
      }
    }
    return rule;
  }

  /**
   * Every file a CSV source matches must have a readable header, and every column a conform rule
   * reads must be in the first file's header; the error names the file, the column and the closest
   * column there is.
   */
  private void checkCsvColumns(YamlObject fields, Map<String, FieldRule> rules, SourceSpec source) {
    List<Path> files = FileMatches.of(baseDir, source.path());
    if (files.isEmpty()) {
      return;
    }
    List<String> header = null;
    for (Path file : files.subList(0, Math.min(files.size(), MAX_HEADERS_CHECKED))) {
      try {
        List<String> columns = CsvSource.header(file.toString(), source.csv());
        if (header == null) {
          header = columns;
        }
      } catch (IllegalArgumentException e) {
        if (checkedHeaders.add(file)) {
          errors.add(new SpecError("sources." + source.name(), source.line(), e.getMessage()));
        }
      }
    }
    if (header == null) {
      return;
    }
    for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
      String column = rule.getValue().sourceColumn();
      if (column != null && !header.contains(column)) {
        YamlObject at = fields;
        at.error(
            rule.getKey(),
            "column '"
                + column
                + "' is not in the header of "
                + files.get(0).getFileName()
                + ClosestName.hint(column, header)
                + " (columns: "
                + String.join(", ", header)
                + ")");
      }
    }
  }

  private Map<String, DedupeSpec> dedupe(YamlObject section, Map<String, CanonicalModel> models) {
    Map<String, DedupeSpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject rule = entry.getValue();
      CanonicalModel model = modelFor(section, name, models);
      if (model == null) {
        continue;
      }
      rule.rejectUnknown(Set.of("key", "keep", "order_by", "tie_break"));
      List<String> key = rule.strings("key");
      if (key.isEmpty()) {
        key = model.key();
      }
      String keepText = rule.string("keep", "latest");
      Dedupe.Keep keep = Dedupe.Keep.LATEST;
      if (keepText.equals("first")) {
        keep = Dedupe.Keep.FIRST;
      } else if (!keepText.equals("latest")) {
        rule.error("keep", "unknown value '" + keepText + "'; allowed: latest, first");
      }
      String orderBy = rule.string("order_by", false);
      List<String> tieBreak = rule.strings("tie_break");
      List<String> referenced = new ArrayList<>(key);
      referenced.addAll(tieBreak);
      if (orderBy != null) {
        referenced.add(orderBy);
      }
      for (String field : referenced) {
        if (!model.schema().hasField(field) || field.startsWith("_")) {
          rule.error(null, "model '" + name + "' has no field '" + field + "'");
        }
      }
      out.put(name, new DedupeSpec(name, key, keep, orderBy, tieBreak));
    }
    return out;
  }

  private Map<String, SinkSpec> sinks(YamlObject section, Map<String, CanonicalModel> models) {
    Map<String, SinkSpec> out = new LinkedHashMap<>();
    if (section.keys().isEmpty() && section.line() > 0) {
      section.error(null, "declare at least one sink");
    }
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject sink = entry.getValue();
      checkName(section, name, "sink");
      String type = sink.string("type", true);
      if (type == null) {
        sink.rejectUnknown(
            Set.of(
                "type",
                "write",
                "models",
                "url",
                "user",
                "password",
                "schema",
                "path",
                "partition_by",
                "deletes",
                "bootstrap_servers",
                "topic",
                "project",
                "dataset",
                "method",
                "cluster_by",
                "json"));
        continue;
      }
      if (!SINK_TYPES.contains(type)) {
        sink.error("type", "unknown sink type '" + type + "'; allowed: " + sorted(SINK_TYPES));
        continue;
      }
      boolean table = type.equals("duckdb") || type.equals("postgres") || type.equals("mariadb");
      Set<String> allowed = new LinkedHashSet<>(List.of("type", "write", "models"));
      if (type.equals("postgres") || type.equals("mariadb")) {
        allowed.addAll(List.of("url", "user", "password", "schema"));
      } else if (type.equals("kafka")) {
        allowed.addAll(List.of("bootstrap_servers", "topic"));
      } else if (type.equals("bigquery")) {
        allowed.addAll(
            List.of(
                "project", "dataset", "method", "partition_by", "cluster_by", "json", "deletes"));
      } else {
        allowed.add("path");
      }
      if (table) {
        allowed.add("deletes");
      }
      if (type.equals("parquet")) {
        allowed.add("partition_by");
      }
      sink.rejectUnknown(allowed);
      String path = null;
      String url = null;
      if (type.equals("postgres") || type.equals("mariadb")) {
        url = sink.string("url", true);
        if (url != null) {
          try {
            Dialect dialect = Dialect.of(url);
            if ((dialect == Dialect.POSTGRES) != type.equals("postgres")) {
              sink.error(
                  "url",
                  "a "
                      + type
                      + " sink needs a "
                      + (type.equals("postgres")
                          ? "jdbc:postgresql:"
                          : "jdbc:mariadb: or jdbc:mysql:")
                      + " url");
            }
          } catch (IllegalArgumentException e) {
            sink.error("url", e.getMessage());
          }
        }
      } else if (!type.equals("kafka") && !type.equals("bigquery")) {
        path = sink.string("path", true);
      }
      SinkSpec.BigQueryTarget bigQuery = type.equals("bigquery") ? bigQuery(sink, models) : null;
      String deletes = sink.string("deletes", "hard");
      if (!deletes.equals("hard") && !deletes.equals("soft")) {
        sink.error("deletes", "unknown delete policy '" + deletes + "'; allowed: hard, soft");
      }
      WriteMode mode =
          table || type.equals("bigquery")
              ? WriteMode.MERGE
              : type.equals("kafka") ? WriteMode.APPEND : WriteMode.OVERWRITE;
      String write = sink.string("write", false);
      if (write != null) {
        try {
          mode = WriteMode.named(write);
        } catch (IllegalArgumentException e) {
          sink.error("write", e.getMessage());
        }
      }
      if (type.equals("bigquery") && mode == WriteMode.OVERWRITE) {
        sink.error(
            "write",
            "BigQuery's Storage Write API appends or merges; use append or merge (or drop the"
                + " table first)");
      }
      if (type.equals("bigquery") && !deletes.equals("hard")) {
        sink.error("deletes", "a bigquery sink applies deletes as BigQuery CDC deletes: use hard");
      }
      if (!table && !type.equals("bigquery") && mode == WriteMode.MERGE) {
        sink.error(
            "write",
            "merge needs a table sink (duckdb, postgres, mariadb); "
                + type
                + " sinks support append and overwrite");
      }
      List<String> sinkModels = sink.strings("models");
      for (String model : sinkModels) {
        if (!declaredModels.contains(model)) {
          sink.error("models", "no model named '" + model + "'; models: " + models.keySet());
        }
      }
      Map<String, String> partitionBy = new LinkedHashMap<>();
      if (sink.has("partition_by")) {
        List<String> targets = sinkModels.isEmpty() ? List.copyOf(models.keySet()) : sinkModels;
        if (sink.node("partition_by") instanceof ScalarNode) {
          String column = sink.string("partition_by", true);
          boolean anyHas = false;
          for (String model : targets) {
            CanonicalModel m = models.get(model);
            if (m != null && m.schema().hasField(column) && !column.startsWith("_")) {
              partitionBy.put(model, column);
              anyHas = true;
            }
          }
          if (!anyHas && !targets.isEmpty()) {
            sink.error(
                "partition_by", "no model written by this sink has a field '" + column + "'");
          }
        } else {
          YamlObject byModel = sink.object("partition_by", false);
          for (String model : byModel.keys()) {
            String column = byModel.string(model, true);
            CanonicalModel m = models.get(model);
            if (m == null && !declaredModels.contains(model)) {
              byModel.error(model, "no model named '" + model + "'; models: " + models.keySet());
            } else if (m == null) {
              continue;
            } else if (column != null && (!m.schema().hasField(column) || column.startsWith("_"))) {
              byModel.error(model, "model '" + model + "' has no field '" + column + "'");
            } else {
              partitionBy.put(model, column);
            }
          }
        }
      }
      if (type.equals("bigquery")) {
        for (Map.Entry<String, String> partition : partitionBy.entrySet()) {
          ModelTypes.Kind kind =
              ModelTypes.kind(
                  models.get(partition.getKey()).schema().getField(partition.getValue()));
          if (kind != ModelTypes.Kind.DATE && kind != ModelTypes.Kind.TIMESTAMP) {
            sink.error(
                "partition_by",
                "BigQuery partitions by day on a date or timestamp field; '"
                    + partition.getValue()
                    + "' of '"
                    + partition.getKey()
                    + "' is neither");
          }
        }
      }
      out.put(
          name,
          new SinkSpec(
              name,
              type,
              sink.line(),
              path,
              url,
              sink.string("user", false),
              sink.string("password", false),
              sink.string("schema", false),
              mode,
              sinkModels,
              partitionBy,
              deletes,
              type.equals("kafka") ? sink.string("bootstrap_servers", true) : null,
              type.equals("kafka") ? sink.string("topic", "{model}") : null,
              bigQuery));
    }
    return out;
  }

  /**
   * A bigquery sink's project, dataset, Storage Write API method, clustering and JSON fields.
   * Project and dataset are names, never credentials (those come from the environment).
   */
  private SinkSpec.BigQueryTarget bigQuery(YamlObject sink, Map<String, CanonicalModel> models) {
    String project = sink.string("project", true);
    String dataset = sink.string("dataset", true);
    for (String[] name : new String[][] {{"project", project}, {"dataset", dataset}}) {
      if (name[1] != null && !name[1].matches("[A-Za-z0-9_.:-]+")) {
        sink.error(name[0], "'" + name[1] + "' is not a valid BigQuery " + name[0] + " name");
      }
    }
    String method = sink.string("method", "exactly_once");
    if (!method.equals("exactly_once") && !method.equals("at_least_once")) {
      sink.error("method", "unknown method '" + method + "'; allowed: exactly_once, at_least_once");
    }
    List<String> clusterBy = sink.strings("cluster_by");
    if (clusterBy.size() > 4) {
      sink.error("cluster_by", "BigQuery clusters by at most 4 fields");
    }
    List<String> json = sink.strings("json");
    for (String field : json) {
      boolean isString =
          models.values().stream()
              .anyMatch(
                  m ->
                      m.schema().hasField(field)
                          && ModelTypes.kind(m.schema().getField(field)) == ModelTypes.Kind.STRING);
      if (!isString) {
        sink.error("json", "no model has a string field '" + field + "' to type JSON");
      }
    }
    return new SinkSpec.BigQueryTarget(
        project, dataset, method.equals("at_least_once"), clusterBy, json);
  }

  private DeadLetterSpec deadLetter(YamlObject section) {
    if (section.line() == 0) {
      return new DeadLetterSpec("jsonl", "target/dead-letter", null, null, null, null);
    }
    String type = section.string("type", "jsonl");
    Set<String> types = Set.of("jsonl", "duckdb", "postgres", "mariadb", "kafka");
    if (type.equals("kafka")) {
      section.rejectUnknown(Set.of("type", "bootstrap_servers", "topic"));
      return new DeadLetterSpec(
          type,
          null,
          section.string("bootstrap_servers", true),
          null,
          null,
          section.string("topic", true));
    }
    if (!types.contains(type)) {
      section.error("type", "unknown dead-letter type '" + type + "'; allowed: " + sorted(types));
      return new DeadLetterSpec("jsonl", "target/dead-letter", null, null, null, null);
    }
    boolean server = type.equals("postgres") || type.equals("mariadb");
    section.rejectUnknown(
        server
            ? Set.of("type", "url", "user", "password", "table")
            : type.equals("duckdb") ? Set.of("type", "path", "table") : Set.of("type", "path"));
    String url = server ? section.string("url", true) : null;
    if (url != null) {
      try {
        Dialect.of(url);
      } catch (IllegalArgumentException e) {
        section.error("url", e.getMessage());
      }
    }
    return new DeadLetterSpec(
        type,
        type.equals("duckdb")
            ? section.string("path", true)
            : section.string("path", "target/dead-letter"),
        url,
        section.string("user", false),
        section.string("password", false),
        section.string("table", DeadLetterSpec.DEFAULT_TABLE));
  }

  private Map<String, IdentitySpec> identity(
      YamlObject section, Map<String, CanonicalModel> models) {
    Map<String, IdentitySpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject spec = entry.getValue();
      CanonicalModel model = modelFor(section, name, models);
      if (model == null) {
        continue;
      }
      spec.rejectUnknown(
          Set.of(
              "blocking",
              "compare",
              "threshold",
              "prior",
              "match",
              "order_by",
              "survivorship",
              "source_priority",
              "include"));
      List<BlockingKey> blocking = new ArrayList<>();
      for (String key : spec.strings("blocking")) {
        String[] parts = key.split("\\+");
        for (String part : parts) {
          String field = part.contains(":") ? part.substring(0, part.indexOf(':')) : part;
          if (!model.schema().hasField(field.trim()) || field.startsWith("_")) {
            spec.error("blocking", "model '" + name + "' has no field '" + field.trim() + "'");
          }
        }
        try {
          blocking.add(
              BlockingKey.of(Arrays.stream(parts).map(String::trim).toArray(String[]::new)));
        } catch (IllegalArgumentException e) {
          spec.error("blocking", e.getMessage());
        }
      }
      if (blocking.isEmpty()) {
        spec.error(
            null, "missing required key 'blocking' (the fields records must share to be compared)");
      }
      List<Comparison> comparisons = new ArrayList<>();
      List<List<Double>> m = new ArrayList<>();
      List<List<Double>> u = new ArrayList<>();
      for (YamlObject compare : spec.list("compare")) {
        compare.rejectUnknown(Set.of("field", "method", "thresholds", "tolerance", "m", "u"));
        m.add(numbers(compare, "m"));
        u.add(numbers(compare, "u"));
        String field = compare.string("field", true);
        String method = compare.string("method", "exact");
        if (field == null) {
          continue;
        }
        if (!model.schema().hasField(field) || field.startsWith("_")) {
          compare.error("field", "model '" + name + "' has no field '" + field + "'");
          continue;
        }
        double[] thresholds =
            compare.strings("thresholds").stream().mapToDouble(Double::parseDouble).toArray();
        try {
          switch (Comparison.Method.named(method)) {
            case EXACT -> comparisons.add(Comparison.exact(field));
            case JARO_WINKLER ->
                comparisons.add(
                    Comparison.jaroWinkler(
                        field, thresholds.length == 0 ? new double[] {0.92, 0.8} : thresholds));
            case LEVENSHTEIN ->
                comparisons.add(
                    Comparison.levenshtein(
                        field, thresholds.length == 0 ? new double[] {0.8} : thresholds));
            case DATE -> comparisons.add(Comparison.date(field));
            case NUMERIC ->
                comparisons.add(
                    Comparison.numeric(
                        field, Double.parseDouble(compare.string("tolerance", "0"))));
          }
        } catch (IllegalArgumentException e) {
          compare.error("method", e.getMessage());
        }
      }
      if (comparisons.isEmpty()) {
        spec.error(
            null, "missing required key 'compare' (the fields compared between candidate records)");
      }
      double threshold = 0.9;
      String text = spec.string("threshold", "0.9");
      try {
        threshold = Double.parseDouble(text);
        if (threshold <= 0 || threshold >= 1) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        spec.error("threshold", "expected a probability between 0 and 1, got '" + text + "'");
      }
      String orderBy = spec.string("order_by", null);
      if (orderBy != null && !model.schema().hasField(orderBy)) {
        spec.error("order_by", "model '" + name + "' has no field '" + orderBy + "'");
      }
      Map<String, String> survivorship = new LinkedHashMap<>();
      String defaultRule = orderBy != null ? "most_recent" : "non_null_first";
      YamlObject rules = spec.object("survivorship", false);
      for (String field : rules.keys()) {
        String rule = rules.string(field, true);
        if (rule == null) {
          continue;
        }
        if (!IdentitySpec.RULES.contains(rule) && !rule.equals("source_priority")) {
          rules.error(
              field,
              "unknown survivorship rule '"
                  + rule
                  + "'; allowed: most_recent, most_frequent, non_null_first, source_priority");
        } else if (field.equals("default")) {
          defaultRule = rule;
        } else if (!model.schema().hasField(field)) {
          rules.error(field, "model '" + name + "' has no field '" + field + "'");
        } else {
          survivorship.put(field, rule);
        }
        if (rule.equals("most_recent") && orderBy == null) {
          rules.error(
              field, "most_recent needs order_by (the field that says which record is newest)");
        }
      }
      out.put(
          name,
          new IdentitySpec(
              name,
              blocking,
              comparisons,
              threshold,
              orderBy,
              defaultRule,
              survivorship,
              spec.strings("source_priority"),
              matchRule(spec, comparisons),
              weights(spec, comparisons, m, u),
              include(spec, model, models)));
    }
    return out;
  }

  /**
   * Records of other models resolved with this one: {@code include: { account: { email:
   * customer_email } }} maps fields of this model to fields of the other, of the same type.
   */
  private Map<String, Map<String, String>> include(
      YamlObject spec, CanonicalModel model, Map<String, CanonicalModel> models) {
    Map<String, Map<String, String>> include = new LinkedHashMap<>();
    YamlObject section = spec.object("include", false);
    if (!section.keys().isEmpty()
        && ModelTypes.kind(model.schema().getField(model.key().get(0))) != ModelTypes.Kind.STRING) {
      spec.error(
          "include",
          "records of other models join by their key as text; the key of '"
              + model.name()
              + "' must be a string");
    }
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      CanonicalModel other = modelFor(section, entry.getKey(), models);
      if (other == null) {
        continue;
      }
      if (other.name().equals(model.name())) {
        section.error(other.name(), "a model's own records are always resolved; list other models");
        continue;
      }
      Map<String, String> fields = new LinkedHashMap<>();
      YamlObject mapping = entry.getValue();
      for (String field : mapping.keys()) {
        String from = mapping.string(field, true);
        if (from == null) {
          continue;
        }
        if (!model.schema().hasField(field) || field.startsWith("_")) {
          mapping.error(field, "model '" + model.name() + "' has no field '" + field + "'");
        } else if (model.key().contains(field)) {
          mapping.error(field, "the key is the included record's own key; map other fields");
        } else if (!other.schema().hasField(from) || from.startsWith("_")) {
          mapping.error(field, "model '" + other.name() + "' has no field '" + from + "'");
        } else if (!ModelTypes.describe(model.schema().getField(field))
            .equals(ModelTypes.describe(other.schema().getField(from)))) {
          mapping.error(
              field,
              "'"
                  + from
                  + "' is "
                  + ModelTypes.describe(other.schema().getField(from))
                  + " but '"
                  + field
                  + "' is "
                  + ModelTypes.describe(model.schema().getField(field)));
        } else {
          fields.put(field, from);
        }
      }
      if (mapping.keys().isEmpty()) {
        section.error(other.name(), "map at least one field, e.g. { email: customer_email }");
      }
      include.put(other.name(), fields);
    }
    return include;
  }

  private static List<Double> numbers(YamlObject item, String key) {
    List<Double> values = new ArrayList<>();
    for (String text : item.strings(key)) {
      try {
        values.add(Double.parseDouble(text));
      } catch (NumberFormatException e) {
        item.error(key, "expected numbers, got '" + text + "'");
      }
    }
    return values;
  }

  /** Weights given in the spec: m and u on every comparison, or on none. */
  private static FellegiSunter weights(
      YamlObject spec, List<Comparison> comparisons, List<List<Double>> m, List<List<Double>> u) {
    long given =
        m.stream().filter(l -> !l.isEmpty()).count() + u.stream().filter(l -> !l.isEmpty()).count();
    if (given == 0 || m.size() != comparisons.size()) {
      return null;
    }
    if (given != 2L * comparisons.size()) {
      spec.error(
          "compare",
          "give m and u on every comparison, or on none (then they are estimated from the data)");
      return null;
    }
    String prior = spec.string("prior", "0.1");
    try {
      return FellegiSunter.of(Double.parseDouble(prior), comparisons, m, u);
    } catch (IllegalArgumentException e) {
      spec.error("compare", e.getMessage());
      return null;
    }
  }

  private static String matchRule(YamlObject spec, List<Comparison> comparisons) {
    String rule = spec.string("match", false);
    if (rule != null) {
      try {
        Expression.parse(rule, ResolveIdentities.similaritySchema(comparisons));
      } catch (IllegalArgumentException e) {
        spec.error(
            "match", e.getMessage() + " (a match rule reads the similarity of compared fields)");
      }
    }
    return rule;
  }

  private Map<String, HistorySpec> history(
      YamlObject section, Map<String, CanonicalModel> models, Map<String, DedupeSpec> dedupe) {
    Map<String, HistorySpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject spec = entry.getValue();
      CanonicalModel model = modelFor(section, name, models);
      if (model == null) {
        continue;
      }
      spec.rejectUnknown(Set.of("scd2", "strategy", "updated_at", "deletes"));
      List<String> tracked = spec.strings("scd2");
      if (tracked.isEmpty()) {
        spec.error(
            null, "missing required key 'scd2' (the columns whose changes make a new version)");
      }
      for (String column : tracked) {
        if (!model.schema().hasField(column) || column.startsWith("_")) {
          spec.error("scd2", "model '" + name + "' has no field '" + column + "'");
        }
      }
      String strategy = spec.string("strategy", model.tracksChanges() ? "changes" : "check");
      if (model.tracksChanges() && !strategy.equals("changes")) {
        spec.error(
            "strategy",
            "model '"
                + name
                + "' is fed by a change stream: its history follows the changes;"
                + " use strategy: changes (the default)");
      } else if (!model.tracksChanges() && !Set.of("check", "timestamp").contains(strategy)) {
        spec.error(
            "strategy",
            "unknown strategy '"
                + strategy
                + "'; allowed: check, timestamp (changes: for models fed by change streams)");
      }
      DedupeSpec rule = dedupe.get(name);
      String updatedAt = spec.string("updated_at", rule == null ? null : rule.orderBy());
      if (strategy.equals("timestamp")) {
        if (updatedAt == null) {
          spec.error(
              null,
              "the timestamp strategy needs updated_at (the field that says when a record changed)");
        } else if (!model.schema().hasField(updatedAt)) {
          spec.error("updated_at", "model '" + name + "' has no field '" + updatedAt + "'");
        }
      }
      String deletes = spec.string("deletes", "ignore");
      if (!Set.of("ignore", "invalidate", "new_record").contains(deletes)) {
        spec.error(
            "deletes",
            "unknown deletes policy '" + deletes + "'; allowed: ignore, invalidate, new_record");
      }
      out.put(name, new HistorySpec(name, tracked, strategy, updatedAt, deletes));
    }
    return out;
  }

  /**
   * The model a section entry is about; null (with an error, unless the model is declared but
   * broken, which is reported already) when there is none.
   */
  private CanonicalModel modelFor(
      YamlObject section, String name, Map<String, CanonicalModel> models) {
    CanonicalModel model = models.get(name);
    if (model == null && !declaredModels.contains(name)) {
      section.error(name, "no model named '" + name + "'; models: " + declaredModels);
    }
    return model;
  }

  private void checkName(YamlObject section, String name, String what) {
    if (!IDENTIFIER.matcher(name).matches()) {
      section.error(
          name, "'" + name + "' is not a valid " + what + " name; use letters, digits and _");
    }
  }

  private static String sorted(Set<String> values) {
    return String.join(", ", values.stream().sorted().toList());
  }
}
