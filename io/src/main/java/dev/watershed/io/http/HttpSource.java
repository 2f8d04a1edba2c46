package dev.watershed.io.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.io.files.JsonLinesSource;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.records.RawRecords;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads the records of a web API into raw rows ({@link RawRecords}): every resource page by page
 * ({@link Pagination}), authenticated ({@link HttpAuth}), within a request budget and with retries
 * ({@link HttpClientSession}). Resources, and their time slices ({@link TimeSlices}), are read in
 * parallel on the workers. A record that is not a JSON object is a dead letter; a page that still
 * fails after the retries fails the run with the request named (secrets redacted), or, with {@code
 * onError = dead_letter}, is a dead letter and the resource's reading stops there.
 *
 * <pre>{@code
 * HttpSource.read(new HttpSource.Settings(
 *     new HttpEndpoint("payments", "https://api.example.com/v1", new HttpAuth.Bearer(key), 10, 5,
 *         Duration.ofMinutes(2), Duration.ofSeconds(30)),
 *     List.of(new HttpResource("/customers", "GET", Map.of("limit", "100"), null, "/data")),
 *     new Pagination.Cursor("starting_after", null, "id", "/has_more"), "fail", null, null, null,
 *     columns));
 * }</pre>
 */
public final class HttpSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  /** The stage written into dead letters. */
  public static final String STAGE = "extract";

  public static final String NOT_AN_OBJECT = "not a JSON object";
  public static final String REQUEST_FAILED = "request failed";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^}]+)}");
  private static final TupleTag<Row> ROWS = new TupleTag<>("rows");
  private static final TupleTag<Row> DEAD = new TupleTag<>("dead_letters");

  /**
   * What an API source reads and how.
   *
   * @param endpoint the API, its auth, request budget and retry limits
   * @param onError {@code fail} or {@code dead_letter}: what a request that still fails does
   * @param sinceParam the query parameter an incremental read sends its start in (null: read all)
   * @param since where an incremental read starts (null: from the start)
   * @param slices the time slices every resource is read in (null: one read per resource)
   * @param columns the record fields to read (dotted paths into nested objects)
   */
  public record Settings(
      HttpEndpoint endpoint,
      List<HttpResource> resources,
      Pagination pagination,
      String onError,
      String sinceParam,
      String since,
      TimeSlices slices,
      List<String> columns)
      implements Serializable {
    public Settings {
      resources = List.copyOf(resources);
      columns = List.copyOf(columns);
    }

    /** Never shows credentials. */
    @Override
    public String toString() {
      return "API " + endpoint;
    }

    String sourceName() {
      return endpoint.name();
    }
  }

  private final Settings settings;

  private HttpSource(Settings settings) {
    this.settings = settings;
  }

  public static HttpSource read(Settings settings) {
    return new HttpSource(settings);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", settings.sourceName()));
    builder.add(DisplayData.item("baseUrl", settings.endpoint().baseUrl()));
    builder.add(DisplayData.item("resources", settings.resources().toString()));
    builder.add(DisplayData.item("auth", settings.endpoint().auth().toString()));
    builder.add(DisplayData.item("pagination", settings.pagination().getClass().getSimpleName()));
    builder.add(DisplayData.item("columns", String.valueOf(settings.columns().size())));
    if (settings.endpoint().maxRequestsPerSecond() > 0) {
      builder.add(
          DisplayData.item("maxRequestsPerSecond", settings.endpoint().maxRequestsPerSecond()));
    }
    builder.addIfNotNull(DisplayData.item("since", settings.since()));
    if (settings.slices() != null) {
      builder.add(
          DisplayData.item(
              "slices",
              settings.slices().every()
                  + " from "
                  + settings.slices().from()
                  + " to "
                  + (settings.slices().to() == null ? "the run's start" : settings.slices().to())));
    }
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    Schema schema = RawRecords.schema(settings.columns());
    List<Map<String, String>> slices = new ArrayList<>();
    if (settings.slices() == null) {
      slices.add(new LinkedHashMap<>());
    } else {
      slices.addAll(settings.slices().params(Instant.now()));
    }
    List<KV<Integer, Integer>> parts = new ArrayList<>();
    for (int r = 0; r < settings.resources().size(); r++) {
      for (int slice = 0; slice < slices.size(); slice++) {
        parts.add(KV.of(r, slice));
      }
    }
    if (parts.isEmpty()) {
      // Slices that end before they start: nothing to read, which Create needs a coder to say.
      parts.add(KV.of(-1, -1));
    }
    PCollectionTuple out =
        input
            .apply("Resources", Create.of(parts))
            // Each resource (and slice) on a worker of its own, within the shared budget.
            .apply("Spread", Reshuffle.viaRandomKey())
            .apply(
                "Fetch",
                ParDo.of(new FetchFn(settings, schema, slices))
                    .withOutputTags(ROWS, TupleTagList.of(DEAD)));
    return WithFailures.Result.of(
        out.get(ROWS).setRowSchema(schema), out.get(DEAD).setRowSchema(DeadLetter.SCHEMA));
  }

  /** Reads one resource, page after page. */
  static final class FetchFn extends DoFn<KV<Integer, Integer>, Row> {
    private final Settings settings;
    private final Schema schema;
    private final ArrayList<LinkedHashMap<String, String>> slices = new ArrayList<>();
    private final Counter read;
    private final Counter requests;
    private transient HttpClientSession session;

    FetchFn(Settings settings, Schema schema, List<Map<String, String>> slices) {
      this.settings = settings;
      this.schema = schema;
      slices.forEach(slice -> this.slices.add(new LinkedHashMap<>(slice)));
      this.read = RunCounters.counter("source." + settings.sourceName() + ".read");
      this.requests = RunCounters.counter("source." + settings.sourceName() + ".requests");
    }

    @Setup
    public void setup() {
      session = new HttpClientSession(settings.endpoint());
    }

    @ProcessElement
    public void process(@Element KV<Integer, Integer> part, MultiOutputReceiver out)
        throws Exception {
      if (part.getKey() < 0) {
        return;
      }
      HttpResource resource = settings.resources().get(part.getKey());
      Map<String, String> slice = slices.get(part.getValue());
      if (resource.parent() == null) {
        read(resource, null, slice, out);
        return;
      }
      // Every record of the parent resource opens the child resource with its values in the path.
      List<JsonNode> parents = new ArrayList<>();
      if (!pages(resource.parent(), null, slice, parents::add, new int[2], out)) {
        return;
      }
      for (JsonNode parent : parents) {
        if (parent.isObject()) {
          read(resource.forParent(fill(resource.path(), parent)), parent, Map.of(), out);
        }
      }
    }

    /**
     * Reads {@code resource} (in {@code slice}), each record a row (with its parent under {@code
     * parent}).
     */
    private void read(
        HttpResource resource, JsonNode parent, Map<String, String> slice, MultiOutputReceiver out)
        throws Exception {
      int[] counter = new int[2];
      String where = slice.isEmpty() ? resource.toString() : resource + " " + slice;
      pages(
          resource,
          parent,
          slice,
          record -> {
            String position = where + " page " + counter[0] + " #" + (++counter[1]);
            read.inc();
            if (!record.isObject()) {
              out.get(DEAD)
                  .output(
                      DeadLetter.of(
                          STAGE,
                          NOT_AN_OBJECT,
                          "the record is " + record.getNodeType().name().toLowerCase(Locale.ROOT),
                          settings.sourceName(),
                          position,
                          record.toString()));
              return;
            }
            if (parent != null) {
              ((ObjectNode) record).set("parent", parent);
            }
            out.get(ROWS).output(rawRow(record, position));
          },
          counter,
          out);
    }

    /**
     * Reads every page of {@code resource} (its first request with the {@code slice}'s bounds),
     * handing each record to {@code records}; {@code counter} holds the page number and the record
     * number within it. False when a request failed and became a dead letter.
     */
    private boolean pages(
        HttpResource resource,
        JsonNode parent,
        Map<String, String> slice,
        Consumer<JsonNode> records,
        int[] counter,
        MultiOutputReceiver out)
        throws Exception {
      Pagination pagination =
          resource.pagination() != null ? resource.pagination() : settings.pagination();
      Map<String, String> first = new LinkedHashMap<>(pagination.first());
      if (settings.sinceParam() != null && settings.since() != null && parent == null) {
        first.put(settings.sinceParam(), settings.since());
      }
      first.putAll(slice);
      Pagination.Request request = Pagination.Request.first(first);
      for (int page = 1; request != null; page++) {
        counter[0] = page;
        counter[1] = 0;
        String url = session.url(resource, request);
        String method = resource.query() != null ? "POST" : resource.method();
        HttpClientSession.Answer answer;
        try {
          answer = session.send(method, url, body(resource, request));
          requests.inc();
        } catch (HttpClientSession.RequestFailed e) {
          String message = "source " + settings.sourceName() + ": " + e.getMessage();
          if (!settings.onError().equals("dead_letter")) {
            // The message names the source, the request (secrets redacted), the answer and the
            // fix; the client's own exception adds nothing a user needs.
            throw new IllegalStateException(message);
          }
          read.inc();
          out.get(DEAD)
              .output(
                  DeadLetter.of(
                      STAGE,
                      REQUEST_FAILED,
                      message,
                      settings.sourceName(),
                      resource + " page " + page,
                      method + " " + session.redact(url)));
          return false;
        }
        JsonNode at =
            resource.recordsAt().isEmpty() ? answer.body() : answer.body().at(resource.recordsAt());
        List<JsonNode> found = new ArrayList<>();
        if (at.isArray()) {
          at.forEach(found::add);
        } else if (!at.isMissingNode() && !at.isNull()) {
          found.add(at);
        }
        found.forEach(records);
        request =
            pagination.next(new Pagination.Page(found, answer.body(), answer.headers(), request));
      }
      return true;
    }

    /** The request body: the resource's JSON body, or its GraphQL query with the variables. */
    private static String body(HttpResource resource, Pagination.Request request) {
      if (resource.query() == null) {
        return resource.body();
      }
      ObjectNode body = JSON.createObjectNode();
      body.put("query", resource.query());
      ObjectNode variables = body.putObject("variables");
      // The spec's variables read as the JSON type they look like; a cursor is always text.
      resource.variables().forEach((name, value) -> variables.set(name, literal(value)));
      request.variables().forEach(variables::put);
      return body.toString();
    }

    /** A variable's value as the JSON type it reads as: a number, true or false, or text. */
    private static JsonNode literal(String value) {
      if (value.equals("true") || value.equals("false")) {
        return JSON.getNodeFactory().booleanNode(Boolean.parseBoolean(value));
      }
      if (value.matches("-?\\d{1,18}")) {
        return JSON.getNodeFactory().numberNode(Long.parseLong(value));
      }
      return JSON.getNodeFactory().textNode(value);
    }

    /** {@code path} with each {@code {field}} replaced by the parent record's value, encoded. */
    static String fill(String path, JsonNode parent) {
      Matcher placeholder = PLACEHOLDER.matcher(path);
      StringBuilder out = new StringBuilder();
      while (placeholder.find()) {
        String value = JsonLinesSource.text(JsonLinesSource.at(parent, placeholder.group(1)));
        placeholder.appendReplacement(
            out,
            Matcher.quoteReplacement(
                value == null ? "" : HttpClientSession.encode(value).replace("+", "%20")));
      }
      placeholder.appendTail(out);
      return out.toString();
    }

    private Row rawRow(JsonNode record, String position) {
      int dataColumns = schema.getFieldCount() - 3;
      List<Object> values = new ArrayList<>(dataColumns + 3);
      for (int c = 0; c < dataColumns; c++) {
        values.add(JsonLinesSource.text(JsonLinesSource.at(record, schema.getField(c).getName())));
      }
      values.add(settings.sourceName());
      values.add(position);
      values.add(record.toString());
      return Row.withSchema(schema).attachValues(values);
    }
  }
}
