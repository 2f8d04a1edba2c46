package dev.watershed.pipelines.config;

import dev.watershed.transforms.expression.LookupTable;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.quality.QualityRule;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

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
  static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private final List<SpecError> errors = new ArrayList<>();
  private final References references;
  private final Path baseDir;
  private final ParseContext context;
  private String modeOverride;

  private SpecParser(Path baseDir, Map<String, String> environment) {
    this.baseDir = baseDir.toAbsolutePath().normalize();
    this.references = new References(environment, this.baseDir, errors);
    this.context = new ParseContext(this.baseDir, errors);
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
            "lookups",
            "conform",
            "dedupe",
            "quality",
            "identity",
            "history",
            "sinks",
            "dead_letter",
            "report",
            "lineage",
            "models_sql"));
    String name = top.string("name", true);
    if (name != null && !Sections.IDENTIFIER.matcher(name).matches()) {
      top.error("name", "'" + name + "' is not a valid name; use letters, digits and _");
    }
    String mode = modeOverride != null ? modeOverride : top.string("mode", "batch");
    if (!Spec.MODES.contains(mode)) {
      top.error(
          "mode",
          "mode '" + mode + "' is not available; allowed: " + String.join(", ", Spec.MODES));
    }
    Spec.Timing timing = timing(top);
    // Names declared, even where their declaration has errors: a reference to a broken source or
    // model is not a second problem.
    context.declared(top.object("sources", false).keys(), top.object("models", false).keys());
    Map<String, SourceConfig> sources =
        SourcesSection.sources(context, top.object("sources", true));
    Map<String, CanonicalModel> models = ModelsSection.models(context, top.object("models", true));
    Map<String, LookupTable> lookups =
        LookupsSection.lookups(context, top.object("lookups", false));
    List<ConformSpec> conform = ConformSection.conform(context, top, sources, models, lookups);
    models = ConformSection.withRawColumns(models, conform);
    models = ModeChecks.withChangeStreams(context, top, models, sources, conform);
    context.models(models);
    Map<String, DedupeSpec> dedupe =
        DedupeSection.dedupe(context, top.object("dedupe", false), models);
    for (DedupeSpec rule : dedupe.values()) {
      if (!rule.prefer().isEmpty() && "streaming".equals(mode)) {
        top.object("dedupe", false)
            .object(rule.model(), false)
            .error("prefer", "prefer runs in batch and micro-batch mode, not streaming");
      }
    }
    Map<String, SinkConfig> sinks = SinksSection.sinks(context, top.object("sinks", true));
    SqlModelsSpec sqlModels = SqlModelsSection.parse(top, sinks);
    Map<String, IdentitySpec> identity =
        IdentitySection.identity(context, top.object("identity", false), models);
    Map<String, HistorySpec> history =
        HistorySection.history(context, top.object("history", false), models, dedupe);
    DeadLetterSpec deadLetter =
        DeadLetterSection.deadLetter(context, top.object("dead_letter", false));
    Map<String, List<QualityRule>> quality =
        QualitySpecs.parse(top.object("quality", false), models, context.declaredModels());
    YamlObject report = top.object("report", false);
    report.rejectUnknown(Set.of("path"));
    String reportPath = report.string("path", "target/report");
    LineageSpec lineage = lineage(top.object("lineage", false));
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
    ModeChecks.checkMode(
        context,
        top,
        mode,
        sources,
        models,
        conform,
        sinks,
        identity,
        history,
        quality,
        deadLetter);
    if (!errors.isEmpty()) {
      throw new SpecException(errors, references.secrets());
    }
    Spec spec =
        new Spec(
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
            timing,
            lineage,
            sqlModels);
    return spec;
  }

  /** {@code lineage:}: the events' file, and an HTTP endpoint if one is given. */
  private static LineageSpec lineage(YamlObject lineage) {
    lineage.rejectUnknown(
        Set.of(
            "path",
            "url",
            "endpoint",
            "api_key",
            "timeout",
            "bootstrap_servers",
            "topic",
            "running_every"));
    String servers = lineage.string("bootstrap_servers", null);
    String topic = lineage.string("topic", null);
    if ((servers == null) != (topic == null)) {
      lineage.error(
          servers == null ? "topic" : "bootstrap_servers",
          "a lineage topic needs both bootstrap_servers and topic");
    }
    String url = lineage.string("url", null);
    if (url != null && !url.matches("https?://[^\\s/]+.*")) {
      lineage.error("url", "'" + url + "' is not an http:// or https:// URL");
    }
    return new LineageSpec(
        lineage.string("path", null),
        url == null ? null : url.replaceFirst("/+$", ""),
        lineage.string("endpoint", LineageSpec.DEFAULT_ENDPOINT),
        lineage.string("api_key", null),
        lineage.duration("timeout", LineageSpec.DEFAULT_TIMEOUT),
        servers,
        topic,
        lineage.duration("running_every", LineageSpec.DEFAULT_RUNNING_EVERY));
  }

  /** {@code every:} and {@code streaming:}, with their defaults. */
  private Spec.Timing timing(YamlObject top) {
    Duration every = top.duration("every", Spec.Timing.DEFAULT.every());
    YamlObject streaming = top.object("streaming", false);
    streaming.rejectUnknown(Set.of("checkpoint_every", "state_ttl"));
    return new Spec.Timing(
        every,
        streaming.duration("checkpoint_every", Spec.Timing.DEFAULT.checkpointEvery()),
        streaming.duration("state_ttl", Spec.Timing.DEFAULT.stateTtl()));
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
}
