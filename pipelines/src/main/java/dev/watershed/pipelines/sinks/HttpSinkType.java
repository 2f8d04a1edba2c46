package dev.watershed.pipelines.sinks;

import dev.watershed.io.WriteMode;
import dev.watershed.io.http.HttpEndpoint;
import dev.watershed.io.http.HttpSink;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.LoadContext;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.SinkBasics;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SinkType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SyncSpec;
import dev.watershed.pipelines.config.YamlObject;
import dev.watershed.pipelines.sources.HttpKeys;
import dev.watershed.transforms.model.CanonicalModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * {@code type: http}: every row of a model sent to a web API (a CRM, a marketing tool), as the
 * application integration out of a pipeline: a request per row or per batch, the body from a
 * template of the model's fields, the same auth, request budget and retries as API sources, an
 * idempotency key per row version, dead letters after the last retry.
 *
 * <pre>{@code
 * crm:
 *   type: http
 *   base_url: https://crm.example.com/api
 *   auth: { type: bearer, token: "${env:CRM_TOKEN}" }
 *   method: PUT
 *   path: /contacts/{customer_id}
 *   body: '{"email": "{email}", "properties": {"name": "{name}"}}'
 *   max_requests_per_second: 10
 * }</pre>
 */
public final class HttpSinkType implements SinkType {
  /** A web API rows are sent to. */
  public record Config(SinkBasics basics, HttpSink.Settings settings, SyncSpec sync)
      implements SinkConfig {
    @Override
    public void checkReachable(Spec spec, String where) {
      HttpKeys.checkReachable(settings.endpoint(), where);
    }

    @Override
    public boolean streams() {
      return true;
    }

    @Override
    public PCollection<Row> load(PCollection<Row> rows, String step, LoadContext context) {
      HttpSink sink =
          HttpSink.write(settings, context.model()).withVersionColumn(context.versionColumn());
      if (context.ledger() != null) {
        sink = sink.withLedger(context.ledger());
      }
      return rows.apply(step, context.gate() == null ? sink : sink.withGate(context.gate()));
    }

    /** Never shows credentials. */
    @Override
    public String toString() {
      return "sink " + name() + " (http)";
    }
  }

  @Override
  public String name() {
    return "http";
  }

  @Override
  public String description() {
    return "a web API: a request per row or per batch, with auth, a rate budget and retries";
  }

  @Override
  public List<Key> keys() {
    List<Key> keys = new ArrayList<>(HttpKeys.keys());
    keys.add(Key.oneOf("method", "the HTTP method (default POST)", "POST", "PUT", "PATCH"));
    keys.add(
        Key.string(
            "path",
            "the path below base_url; {field} takes the row's value, such as /contacts/{id}"));
    keys.add(
        Key.string(
            "body", "a JSON template: \"{field}\" takes the field's value (default: every field)"));
    keys.add(Key.integer("batch_size", "rows per request, sent as a JSON array (default 1)"));
    keys.add(Key.string("batch_wrap", "the field a batch's array goes under, such as records"));
    keys.add(
        Key.oneOf(
            "on_delete",
            "a row that deletes: a DELETE request (default with batch_size 1), sent like any"
                + " row (default in batches), or skipped",
            "delete",
            "send",
            "skip"));
    keys.add(SyncSpec.key());
    keys.add(
        Key.string(
            "idempotency_header",
            "the header each request's idempotency key goes in (default Idempotency-Key; none"
                + " for no key)"));
    return keys;
  }

  @Override
  public WriteMode defaultMode() {
    return WriteMode.APPEND;
  }

  @Override
  public List<WriteMode> modes() {
    return List.of(WriteMode.APPEND);
  }

  @Override
  public Config parse(SinkBasics basics, YamlObject block, ParseContext context) {
    HttpEndpoint endpoint = HttpKeys.endpoint(basics.name(), block);
    String method = block.string("method", "POST").toUpperCase(Locale.ROOT);
    if (!List.of("POST", "PUT", "PATCH").contains(method)) {
      block.error("method", "expected POST, PUT or PATCH, got '" + method + "'");
      method = "POST";
    }
    String path = block.string("path", "/");
    int batchSize = block.integer("batch_size", 1);
    if (batchSize < 1) {
      block.error("batch_size", "expected at least 1, got " + batchSize);
      batchSize = 1;
    }
    String onDelete = block.string("on_delete", batchSize == 1 ? "delete" : "send");
    HttpSink.OnDelete deletes = HttpSink.OnDelete.SEND;
    try {
      deletes = HttpSink.OnDelete.valueOf(onDelete.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      block.error("on_delete", "unknown value '" + onDelete + "'; allowed: delete, send, skip");
    }
    String header = block.string("idempotency_header", "Idempotency-Key");
    HttpSink.Settings settings;
    try {
      settings =
          new HttpSink.Settings(
              endpoint,
              method,
              path,
              block.string("body", null),
              batchSize,
              block.string("batch_wrap", null),
              deletes,
              header.equals("none") ? null : header);
    } catch (HttpSink.BadSetting e) {
      block.error(e.setting().equals("onDelete") ? "on_delete" : e.setting(), e.getMessage());
      return new Config(
          basics,
          new HttpSink.Settings(endpoint, method, "/", null, 1, null, HttpSink.OnDelete.SEND, null),
          null);
    }
    checkFields(block, settings, basics.models(), context);
    return new Config(basics, settings, SyncSpec.parse(block));
  }

  /** Every field the path and body name is a field of each model the sink takes. */
  private static void checkFields(
      YamlObject block, HttpSink.Settings settings, List<String> taken, ParseContext context) {
    List<String> models = taken.isEmpty() ? List.copyOf(context.models().keySet()) : taken;
    for (String field : settings.fields()) {
      if (CHANGE_FIELDS.contains(field)) {
        continue;
      }
      for (String name : models) {
        CanonicalModel model = context.models().get(name);
        if (model != null && !model.schema().hasField(field)) {
          String key = settings.path().contains("{" + field + "}") ? "path" : "body";
          block.error(
              key,
              "model '"
                  + name
                  + "' has no field '"
                  + field
                  + "'; fields: "
                  + model.dataFields().stream().map(f -> f.getName()).toList());
        }
      }
    }
  }

  /** Fields the rows of a change stream carry besides the model's own. */
  private static final List<String> CHANGE_FIELDS = List.of("_version", "_deleted", "_changed_at");
}
