package dev.watershed.io.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.watershed.io.sync.SyncLedger;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.RowJson;
import dev.watershed.transforms.records.RawRecords;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;

/**
 * Sends a model's rows to a web API: one request per row (or per batch of rows), the body built
 * from the row's fields by a JSON template, authenticated, within the API's request budget, retried
 * with backoff on 5xx, 408, 429 and connection failures ({@link HttpClientSession}). A request the
 * API still refuses or fails after the last retry makes its rows dead letters (stage {@code load},
 * the answer, the row's key and the body sent); a refused credential (401, 403) fails the run,
 * since every other row would be refused the same way.
 *
 * <p>Rows of a change stream that delete ({@code _deleted}) are sent as {@code DELETE} to the row's
 * path ({@link OnDelete#DELETE}), sent like any row ({@link OnDelete#SEND}), or not sent ({@link
 * OnDelete#SKIP}, counted loaded).
 *
 * <p>Delivery is at least once: a bundle retried by the runner sends again. Each request carries an
 * idempotency key (header {@code Idempotency-Key} by default) that is the same every time the same
 * version of the same row is sent (from the key, and {@code _version}, the version column or the
 * body), so an API that honours it applies each change once. Versions of one key are sent in the
 * order the sink receives them; an API that must never go back compares {@code _version}. Counters:
 * {@code load.<sink>.<model>}, {@code rejected.<sink>.<model>}, {@code blocked.<sink>.<model>}.
 *
 * <pre>{@code
 * rows.apply(HttpSink.write(new HttpSink.Settings(endpoint, "PUT", "/contacts/{customer_id}",
 *     "{\"email\": \"{email}\", \"name\": \"{name}\"}", 1, null, HttpSink.OnDelete.DELETE,
 *     "Idempotency-Key"), model));
 * }</pre>
 */
public final class HttpSink extends PTransform<PCollection<Row>, PCollection<Row>> {
  /** The stage written into dead letters. */
  public static final String STAGE = "load";

  /** A 4xx answer: the API refused the row as it is. */
  public static final String REFUSED = "refused by the API";

  /** The API failed or could not be reached, still after the last retry. */
  public static final String FAILED = "request failed";

  /**
   * Requests of one worker that may fail in a row, each after its retries, before the run stops.
   */
  public static final int MAX_FAILED_IN_A_ROW = 10;

  /**
   * Dead-letter reason of a synced sink's rows once its API refused the credentials or stayed down:
   * the run goes on for the other sinks and fails at the end; the next run sends these rows again
   * (they are not in the sink's ledger).
   */
  public static final String DESTINATION_FAILED = "destination failed";

  /** Batches are built per shard of keys; a key is always in the same shard. */
  private static final int SHARDS = 8;

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)}");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a row that deletes does. */
  public enum OnDelete {
    /** {@code DELETE} to the row's path, no body; a 404 or 410 answer counts as deleted. */
    DELETE,
    /** Sent like any other row (the body can carry {@code _deleted}). */
    SEND,
    /** Not sent; counted loaded. */
    SKIP
  }

  /**
   * How rows are sent.
   *
   * @param method POST, PUT or PATCH
   * @param path below the endpoint's base URL; {@code {field}} takes the row's value (batches: no
   *     placeholders)
   * @param body a JSON template: a string that is exactly {@code "{field}"} takes the field's JSON
   *     value (a number stays a number, null stays null), other {@code {field}}s in strings take
   *     its text; null sends every field of the model (and {@code _source}, {@code _version},
   *     {@code _deleted})
   * @param batchSize rows per request; above 1 the body is a JSON array of the rows' bodies
   * @param batchWrap the field a batch's array is put under ({@code {"records": [...]}}), or null
   * @param idempotencyHeader the header the idempotency key goes in, or null for none
   */
  public record Settings(
      HttpEndpoint endpoint,
      String method,
      String path,
      String body,
      int batchSize,
      String batchWrap,
      OnDelete onDelete,
      String idempotencyHeader)
      implements Serializable {
    public Settings {
      if (batchSize < 1) {
        throw new BadSetting("batchSize", "must be at least 1, got " + batchSize);
      }
      if (batchSize > 1 && !placeholders(path).isEmpty()) {
        throw new BadSetting(
            "path", "a batch goes to one path: path " + path + " cannot name fields");
      }
      if (batchSize > 1 && onDelete == OnDelete.DELETE) {
        throw new BadSetting("onDelete", "a batch cannot DELETE: send or skip deletes");
      }
      if (body != null) {
        template(body);
      }
    }

    /** The fields the path and the body name. */
    public Set<String> fields() {
      Set<String> fields = new LinkedHashSet<>(placeholders(path));
      if (body != null) {
        collect(template(body), fields);
      }
      return fields;
    }

    /** Never shows credentials. */
    @Override
    public String toString() {
      return method + " " + endpoint + path;
    }
  }

  /** A setting that cannot be: {@link #setting} names which one. */
  public static final class BadSetting extends IllegalArgumentException {
    private final String setting;

    BadSetting(String setting, String message) {
      super(message);
      this.setting = setting;
    }

    /**
     * The {@link Settings} component at fault: {@code path}, {@code body}, {@code onDelete}, ...
     */
    public String setting() {
      return setting;
    }
  }

  private final Settings settings;
  private final CanonicalModel model;
  private final String versionColumn;
  private final PCollectionView<Boolean> gate;
  private final SyncLedger ledger;

  private HttpSink(
      Settings settings,
      CanonicalModel model,
      String versionColumn,
      PCollectionView<Boolean> gate,
      SyncLedger ledger) {
    this.settings = settings;
    this.model = model;
    this.versionColumn = versionColumn;
    this.gate = gate;
    this.ledger = ledger;
  }

  /** Sends the rows of {@code model} as {@code settings} say. */
  public static HttpSink write(Settings settings, CanonicalModel model) {
    return new HttpSink(settings, model, null, null, null);
  }

  /** The column whose value tells versions of a key apart in the idempotency key. */
  public HttpSink withVersionColumn(String column) {
    return new HttpSink(settings, model, column, gate, ledger);
  }

  /** Sends only when {@code commitAllowed} is true; rows are counted blocked otherwise. */
  /**
   * Records in {@code ledger} every row the API accepted (and every key it deleted), for a
   * diff-based sync ({@link dev.watershed.io.sync.SyncDiff}); a refused or failed row is not
   * recorded, so the next run sends it again.
   */
  public HttpSink withLedger(SyncLedger ledger) {
    return new HttpSink(settings, model, versionColumn, gate, ledger);
  }

  public HttpSink withGate(PCollectionView<Boolean> commitAllowed) {
    return new HttpSink(settings, model, versionColumn, commitAllowed, ledger);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("sink", settings.endpoint().name()));
    builder.add(DisplayData.item("baseUrl", settings.endpoint().baseUrl()));
    builder.add(DisplayData.item("request", settings.method() + " " + settings.path()));
    builder.add(DisplayData.item("auth", settings.endpoint().auth().toString()));
    builder.add(DisplayData.item("batchSize", settings.batchSize()));
    builder.add(DisplayData.item("onDelete", settings.onDelete().name().toLowerCase()));
    builder.addIfNotNull(DisplayData.item("idempotencyHeader", settings.idempotencyHeader()));
    if (settings.endpoint().maxRequestsPerSecond() > 0) {
      builder.add(
          DisplayData.item("maxRequestsPerSecond", settings.endpoint().maxRequestsPerSecond()));
    }
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    String counterName = settings.endpoint().name() + "." + model.name();
    PCollection<Row> open = rows;
    if (gate != null) {
      open =
          rows.apply("Gate", ParDo.of(new GateFn(gate, counterName)).withSideInputs(gate))
              .setRowSchema(rows.getSchema());
    }
    Sender sender = new Sender(settings, model, versionColumn, counterName, ledger);
    PCollection<Row> deadLetters;
    if (settings.batchSize() == 1) {
      deadLetters = open.apply("Send", ParDo.of(new SendFn(sender)));
    } else {
      List<String> key = model.key();
      deadLetters =
          open.apply("Shard", ParDo.of(new ShardFn(key)))
              .setCoder(KvCoder.of(VarIntCoder.of(), open.getCoder()))
              .apply(
                  "Batch",
                  GroupIntoBatches.<Integer, Row>ofSize(settings.batchSize())
                      .withMaxBufferingDuration(org.joda.time.Duration.standardSeconds(1)))
              .apply("Send", ParDo.of(new SendBatchFn(sender)));
    }
    return deadLetters.setRowSchema(DeadLetter.SCHEMA);
  }

  /** Passes rows on when the gate is open, counting them blocked when it is shut. */
  private static final class GateFn extends DoFn<Row, Row> {
    private final PCollectionView<Boolean> gate;
    private final Counter blocked;

    GateFn(PCollectionView<Boolean> gate, String counterName) {
      this.gate = gate;
      this.blocked = RunCounters.counter("blocked." + counterName);
    }

    @ProcessElement
    public void process(@Element Row row, ProcessContext context) {
      if (context.sideInput(gate)) {
        context.output(row);
      } else {
        blocked.inc();
      }
    }
  }

  /** Keys a row by its shard, so one key's versions go in one batch stream. */
  private static final class ShardFn extends DoFn<Row, KV<Integer, Row>> {
    private final List<String> key;

    ShardFn(List<String> key) {
      this.key = key;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<Integer, Row>> out) {
      out.output(KV.of(Math.floorMod(CanonicalModel.keyText(row, key).hashCode(), SHARDS), row));
    }
  }

  private static final class SendFn extends DoFn<Row, Row> {
    private final Sender sender;

    SendFn(Sender sender) {
      this.sender = sender;
    }

    @Setup
    public void setup() {
      sender.open();
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> deadLetters) throws Exception {
      sender.send(List.of(row)).forEach(deadLetters::output);
    }

    @FinishBundle
    public void finish() throws Exception {
      sender.recordDelivered();
    }
  }

  private static final class SendBatchFn extends DoFn<KV<Integer, Iterable<Row>>, Row> {
    private final Sender sender;

    SendBatchFn(Sender sender) {
      this.sender = sender;
    }

    @Setup
    public void setup() {
      sender.open();
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<Row>> batch, OutputReceiver<Row> deadLetters)
        throws Exception {
      List<Row> rows = new ArrayList<>();
      batch.getValue().forEach(rows::add);
      sender.send(rows).forEach(deadLetters::output);
    }

    @FinishBundle
    public void finish() throws Exception {
      sender.recordDelivered();
    }
  }

  /**
   * Builds and sends the requests of one worker; a copy per DoFn instance (the session is not
   * shared between threads).
   */
  static final class Sender implements Serializable {
    private final Settings settings;
    private final CanonicalModel model;
    private final String versionColumn;
    private final Schema published;
    private final Counter loaded;
    private final Counter rejected;
    private transient HttpClientSession session;
    private transient int failedInARow;
    private transient JsonNode template;
    private transient RowJson json;
    private final SyncLedger ledger;
    private transient SyncLedger.Accepted accepted;
    private transient String down;
    private final Counter destinationsDown;

    Sender(
        Settings settings,
        CanonicalModel model,
        String versionColumn,
        String counterName,
        SyncLedger ledger) {
      this.settings = settings;
      this.model = model;
      this.versionColumn = versionColumn;
      this.ledger = ledger;
      Schema.Builder fields = Schema.builder().addFields(model.loadFields());
      if (ledger != null && !model.tracksChanges()) {
        // A synced mirror's deletes are rows marked _deleted, which a body sent for them says.
        fields.addNullableField(RawRecords.DELETED, Schema.FieldType.BOOLEAN);
      }
      this.published = fields.build();
      this.loaded = RunCounters.counter("load." + counterName);
      this.rejected = RunCounters.counter("rejected." + counterName);
      this.destinationsDown = RunCounters.counter("down." + counterName);
    }

    void open() {
      session = new HttpClientSession(settings.endpoint());
      template = settings.body() == null ? null : template(settings.body());
      json = new RowJson();
      accepted = ledger == null ? null : new SyncLedger.Accepted(ledger, model);
    }

    /** Writes what the API accepted since the last call to the sync ledger, if there is one. */
    void recordDelivered() throws Exception {
      if (accepted != null) {
        accepted.flush();
      }
    }

    /** Sends {@code rows} (one request, or one per row that deletes); returns dead letters. */
    List<Row> send(List<Row> rows) throws Exception {
      List<Row> deadLetters = new ArrayList<>();
      List<Row> batch = new ArrayList<>(rows.size());
      for (Row row : rows) {
        if (!RawRecords.isDeleted(row) || settings.onDelete() == OnDelete.SEND) {
          batch.add(row);
        } else if (settings.onDelete() == OnDelete.SKIP) {
          loaded.inc();
        } else {
          String path = fill(settings.path(), row);
          deliver(
                  List.of(row),
                  "DELETE",
                  path == null ? null : session.url(path, Map.of()),
                  null,
                  List.of(idempotencyKey(row, "delete")))
              .forEach(deadLetters::add);
        }
      }
      if (batch.isEmpty()) {
        return deadLetters;
      }
      List<JsonNode> bodies = new ArrayList<>(batch.size());
      List<String> keys = new ArrayList<>(batch.size());
      String body = null;
      for (Row row : batch) {
        JsonNode node = body(row);
        body = node.toString();
        bodies.add(node);
        keys.add(idempotencyKey(row, body));
      }
      String path = settings.path();
      if (settings.batchSize() == 1) {
        path = fill(path, batch.get(0));
      } else {
        ArrayNode array = JSON.createArrayNode().addAll(bodies);
        body =
            settings.batchWrap() == null
                ? array.toString()
                : JSON.createObjectNode().set(settings.batchWrap(), array).toString();
      }
      String url = path == null ? null : session.url(path, Map.of());
      deadLetters.addAll(deliver(batch, settings.method(), url, body, keys));
      return deadLetters;
    }

    /** One request for {@code rows}; their dead letters when it is refused or still fails. */
    private List<Row> deliver(
        List<Row> rows, String method, String url, String body, List<String> keys)
        throws InterruptedException {
      if (down != null) {
        return deadLetters(rows, DESTINATION_FAILED, down, body);
      }
      try {
        return attempt(rows, method, url, body, keys);
      } catch (DestinationDown e) {
        if (ledger == null) {
          throw new IllegalStateException(e.getMessage());
        }
        // A synced sink: this destination is down for the rest of the run; the others go on.
        down = e.getMessage();
        destinationsDown.inc();
        return deadLetters(rows, DESTINATION_FAILED, down, body);
      }
    }

    /** Thrown when the API, not a row, is the problem: refused credentials, or down. */
    private static final class DestinationDown extends RuntimeException {
      DestinationDown(String message) {
        super(message);
      }
    }

    private List<Row> attempt(
        List<Row> rows, String method, String url, String body, List<String> keys)
        throws InterruptedException {
      if (url == null) {
        return deadLetters(rows, REFUSED, "a field the path names is empty", body);
      }
      Map<String, String> headers =
          settings.idempotencyHeader() == null
              ? Map.of()
              : Map.of(settings.idempotencyHeader(), keys.size() == 1 ? keys.get(0) : hash(keys));
      try {
        session.send(method, url, body, headers, false);
      } catch (HttpClientSession.RequestFailed e) {
        boolean gone = method.equals("DELETE") && (e.status == 404 || e.status == 410);
        if (!gone) {
          String message = "sink " + settings.endpoint().name() + ": " + e.getMessage();
          if (e.status == 401 || e.status == 403) {
            throw new DestinationDown(message);
          }
          boolean refused = e.status >= 400 && e.status < 500 && e.status != 408;
          if (!refused) {
            failedInARow(message);
          } else {
            failedInARow = 0;
          }
          return deadLetters(
              rows, refused ? REFUSED : FAILED, message, body != null ? body : method + " " + url);
        }
      } catch (IOException e) {
        failedInARow("sink " + settings.endpoint().name() + ": " + e.getMessage());
        return deadLetters(rows, FAILED, e.getMessage(), body);
      }
      failedInARow = 0;
      loaded.inc(rows.size());
      if (accepted != null) {
        rows.forEach(accepted::add);
      }
      return List.of();
    }

    /**
     * Counts a request that still failed after its retries (the API, not the row, is the problem);
     * at {@link #MAX_FAILED_IN_A_ROW} in a row the run stops: an API that is down would otherwise
     * make every remaining row wait out its retries and end as a dead letter.
     */
    private void failedInARow(String last) {
      if (++failedInARow >= MAX_FAILED_IN_A_ROW) {
        throw new DestinationDown(
            last
                + "; the API failed "
                + failedInARow
                + " requests in a row, each after its retries, so the run stops (check that the"
                + " API is up, then run again)");
      }
    }

    private List<Row> deadLetters(List<Row> rows, String reason, String detail, String payload) {
      List<Row> out = new ArrayList<>(rows.size());
      for (Row row : rows) {
        rejected.inc();
        out.add(
            DeadLetter.of(
                STAGE,
                reason,
                detail,
                row.getSchema().hasField(RawRecords.SOURCE)
                    ? row.getString(RawRecords.SOURCE)
                    : null,
                position(row),
                rows.size() == 1 || payload == null ? payload : body(row).toString()));
      }
      return out;
    }

    private String position(Row row) {
      String version = versionOf(row);
      return "sink "
          + settings.endpoint().name()
          + " model "
          + model.name()
          + " key "
          + CanonicalModel.keyText(row, model.key())
          + (version == null ? "" : " version " + version);
    }

    /** The row's fields the model loads, as a JSON object. */
    private ObjectNode values(Row row) {
      List<Object> values = new ArrayList<>(published.getFieldCount());
      for (Schema.Field field : published.getFields()) {
        values.add(
            row.getSchema().hasField(field.getName()) ? row.getValue(field.getName()) : null);
      }
      // Not validated: a synced delete sent as a body holds only its key.
      return json.node(Row.withSchema(published).attachValues(values));
    }

    private JsonNode body(Row row) {
      ObjectNode values = values(row);
      return template == null ? values : render(template, values);
    }

    /** The version that tells this row's versions apart, or null when the model has none. */
    private String versionOf(Row row) {
      for (String column : new String[] {RawRecords.VERSION, versionColumn}) {
        if (column != null && row.getSchema().hasField(column) && row.getValue(column) != null) {
          return String.valueOf((Object) row.getValue(column));
        }
      }
      return null;
    }

    /**
     * The same text every time the same version of the same row goes to the same sink: the key and
     * the version where the model has one, else the content sent.
     */
    private String idempotencyKey(Row row, String content) {
      String version = versionOf(row);
      return hash(
          List.of(
              settings.endpoint().name(),
              model.name(),
              CanonicalModel.keyText(row, model.key()),
              version != null ? version + (RawRecords.isDeleted(row) ? "/delete" : "") : content));
    }

    /** The path with each {@code {field}} the row's value, URL-encoded; null when one is null. */
    private String fill(String path, Row row) {
      Matcher placeholder = PLACEHOLDER.matcher(path);
      StringBuilder out = new StringBuilder();
      while (placeholder.find()) {
        String field = placeholder.group(1);
        Object value = row.getSchema().hasField(field) ? row.getValue(field) : null;
        if (value == null) {
          return null;
        }
        placeholder.appendReplacement(
            out,
            Matcher.quoteReplacement(
                HttpClientSession.encode(String.valueOf(value)).replace("+", "%20")));
      }
      placeholder.appendTail(out);
      return out.toString();
    }
  }

  /** The template with the row's values in: see {@link Settings#body()}. */
  static JsonNode render(JsonNode template, ObjectNode values) {
    if (template.isTextual()) {
      String text = template.asText();
      Matcher whole = PLACEHOLDER.matcher(text);
      if (whole.matches()) {
        JsonNode value = values.get(whole.group(1));
        return value == null ? JsonNodeFactory.instance.nullNode() : value;
      }
      Matcher placeholder = PLACEHOLDER.matcher(text);
      StringBuilder out = new StringBuilder();
      while (placeholder.find()) {
        JsonNode value = values.get(placeholder.group(1));
        placeholder.appendReplacement(
            out, Matcher.quoteReplacement(value == null || value.isNull() ? "" : value.asText()));
      }
      placeholder.appendTail(out);
      return new TextNode(out.toString());
    }
    if (template.isObject()) {
      ObjectNode out = JSON.createObjectNode();
      Iterator<Map.Entry<String, JsonNode>> fields = template.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        out.set(field.getKey(), render(field.getValue(), values));
      }
      return out;
    }
    if (template.isArray()) {
      ArrayNode out = JSON.createArrayNode();
      template.forEach(item -> out.add(render(item, values)));
      return out;
    }
    return template;
  }

  static JsonNode template(String body) {
    try {
      return JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadSetting("body", "the body template is not JSON: " + e.getOriginalMessage());
    }
  }

  private static Set<String> placeholders(String text) {
    Set<String> fields = new LinkedHashSet<>();
    Matcher placeholder = PLACEHOLDER.matcher(text == null ? "" : text);
    while (placeholder.find()) {
      fields.add(placeholder.group(1));
    }
    return fields;
  }

  private static void collect(JsonNode template, Set<String> fields) {
    if (template.isTextual()) {
      fields.addAll(placeholders(template.asText()));
    }
    template.forEach(child -> collect(child, fields));
  }

  private static String hash(List<String> parts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String part : parts) {
        sha.update(part.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
