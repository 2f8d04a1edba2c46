package dev.watershed.pipelines.compose;

import dev.watershed.io.WriteMode;
import dev.watershed.io.jdbc.DeleteByKey;
import dev.watershed.io.jdbc.DestinationRows;
import dev.watershed.io.jdbc.DestinationValues;
import dev.watershed.io.jdbc.JdbcLoad;
import dev.watershed.pipelines.config.IdentitySpec;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.transforms.identity.AffectedRecords;
import dev.watershed.transforms.identity.BlockingKey;
import dev.watershed.transforms.identity.Comparison;
import dev.watershed.transforms.identity.GoldenRecords;
import dev.watershed.transforms.identity.IncludedRecords;
import dev.watershed.transforms.identity.ResolveIdentities;
import dev.watershed.transforms.model.CanonicalModel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The identity resolution a spec asks for, added to the graph: the records of a model (and of the
 * models its identity includes) matched into clusters, golden records, the crosswalk and golden id
 * merges merged into every table sink that writes the model.
 */
final class IdentitySteps {
  private final Spec spec;
  private final Pipeline pipeline;
  private final RunContext context;
  private final PCollectionView<Boolean> gate;

  IdentitySteps(Spec spec, Pipeline pipeline, RunContext context, PCollectionView<Boolean> gate) {
    this.spec = spec;
    this.pipeline = pipeline;
    this.context = context;
    this.gate = gate;
  }

  /**
   * Resolves identities among a model's rows (and the records of models its identity includes) and
   * merges golden records, the crosswalk and golden id merges into every table sink that writes the
   * model. Golden ids stay stable because the previous crosswalk is read back from the first such
   * sink. When the model's records are read in part (incremental JDBC, Kafka topics, a replay), the
   * arriving records are resolved together with the earlier clusters they may touch, read back from
   * that sink ({@link AffectedRecords}); other clusters are left as they are.
   */
  void resolve(IdentitySpec identity, CanonicalModel model, Map<String, PCollection<Row>> ready) {
    String name = "identity " + model.name();
    List<PCollection<Row>> members = new ArrayList<>();
    members.add(ready.get(model.name()));
    for (Map.Entry<String, Map<String, String>> include : identity.include().entrySet()) {
      CanonicalModel other = spec.models().get(include.getKey());
      members.add(
          ready
              .get(other.name())
              .apply(
                  "include " + other.name() + " in " + name,
                  IncludedRecords.of(model, other, include.getValue())));
    }
    PCollection<Row> rows =
        PCollectionList.of(members)
            .apply("records of " + name, Flatten.pCollections())
            .setRowSchema(model.schema());
    ResolveIdentities resolver =
        ResolveIdentities.of(model.key().get(0))
            .withBlockingKeys(identity.blocking().toArray(BlockingKey[]::new))
            .withComparisons(identity.comparisons().toArray(Comparison[]::new))
            .withThreshold(identity.threshold());
    if (identity.matchRule() != null) {
      resolver = resolver.withMatchRule(identity.matchRule());
    }
    if (identity.weights() != null) {
      resolver = resolver.withWeights(identity.weights());
    }
    List<TableSink> tables = spec.tableSinksOf(model.name());
    CanonicalModel crosswalk = GoldenRecords.crosswalkModel(model);
    PCollection<KV<String, String>> previous =
        tables.isEmpty()
            ? pipeline.apply(
                "no earlier crosswalk of " + model.name(),
                Create.empty(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())))
            : pipeline.apply(
                "earlier crosswalk of " + model.name(),
                DestinationValues.rows(
                    tables.get(0).endpoint(spec),
                    tables.get(0).tableOf(crosswalk.name()),
                    "source_id",
                    List.of("golden_id", "first_seen")));
    if (!tables.isEmpty() && readInPart(identity)) {
      rows =
          rows.apply(
              "affected " + name,
              AffectedRecords.of(
                  model.key().get(0),
                  identity.blocking(),
                  earlier(identity, model, tables.get(0)),
                  previous));
    }
    rows =
        rows.apply("count " + name, Counting.rows("identity." + model.name() + ".records"))
            .setRowSchema(model.schema());
    PCollection<Row> clusters = rows.apply(name, resolver);
    PCollectionTuple golden =
        rows.apply(
            "golden " + model.name(),
            GoldenRecords.of(model, clusters, previous)
                .withMatchedBy(identity.matchRule() != null ? "rule" : "fellegi_sunter")
                .withSurvivorship(
                    identity.survivorship(),
                    identity.defaultRule(),
                    identity.orderBy(),
                    identity.sourcePriority())
                .withClock(context.now()));
    for (TableSink sink : tables) {
      for (Map.Entry<CanonicalModel, PCollection<Row>> output :
          Map.of(
                  crosswalk,
                  golden.get(GoldenRecords.CROSSWALK),
                  GoldenRecords.goldenModel(model),
                  golden.get(GoldenRecords.GOLDEN),
                  GoldenRecords.mergesModel(model),
                  golden.get(GoldenRecords.MERGES))
              .entrySet()) {
        CanonicalModel table = output.getKey();
        output
            .getValue()
            .apply(
                "load " + sink.name() + " " + table.name(),
                JdbcLoad.into(sink.endpoint(spec), sink.tableOf(table.name()), table)
                    .withPipeline(spec.name())
                    .withMode(WriteMode.MERGE)
                    .withSinkName(sink.name())
                    .withGate(gate));
      }
      if (sink == tables.get(0)) {
        golden
            .get(GoldenRecords.GOLDEN)
            .apply(
                "count golden " + model.name(),
                Counting.rows("identity." + model.name() + ".golden"))
            .setRowSchema(GoldenRecords.goldenModel(model).schema());
        golden
            .get(GoldenRecords.MERGES)
            .apply(
                "count merged " + model.name(),
                Counting.rows("identity." + model.name() + ".merged"))
            .setRowSchema(GoldenRecords.mergesModel(model).schema());
      }
      // A golden id merged into another leaves the golden table; the merges table says where to.
      CanonicalModel goldenTable = GoldenRecords.goldenModel(model);
      golden
          .get(GoldenRecords.MERGES)
          .apply(
              "merged ids of " + sink.name() + " " + goldenTable.name(),
              MapElements.into(TypeDescriptors.strings()).via((Row m) -> m.getString("golden_id")))
          .apply(
              "retire " + sink.name() + " " + goldenTable.name(),
              DeleteByKey.from(sink.endpoint(spec), sink.tableOf(goldenTable.name()), "golden_id")
                  .withGate(gate)
                  .withCounter("retired." + sink.name() + "." + goldenTable.name()));
    }
  }

  /** True when a model's identity sees only part of its records in a run. */
  private boolean readInPart(IdentitySpec identity) {
    if (context.isReplay()) {
      return true;
    }
    Set<String> models = new HashSet<>(identity.include().keySet());
    models.add(identity.model());
    return spec.conform().stream()
        .filter(entry -> models.contains(entry.to()))
        .map(entry -> spec.sources().get(entry.from()))
        .anyMatch(SourceConfig::readsInPart);
  }

  /** The records of an identity's models loaded by earlier runs, as rows of the resolved model. */
  private PCollection<Row> earlier(IdentitySpec identity, CanonicalModel model, TableSink sink) {
    List<PCollection<Row>> earlier = new ArrayList<>();
    earlier.add(
        pipeline.apply(
            "earlier " + model.name() + " of " + sink.name(),
            DestinationRows.of(sink.endpoint(spec), sink.tableOf(model.name()), model)));
    for (Map.Entry<String, Map<String, String>> include : identity.include().entrySet()) {
      CanonicalModel other = spec.models().get(include.getKey());
      earlier.add(
          pipeline
              .apply(
                  "earlier " + other.name() + " of " + sink.name(),
                  DestinationRows.of(sink.endpoint(spec), sink.tableOf(other.name()), other))
              .apply(
                  "earlier " + other.name() + " as " + model.name(),
                  IncludedRecords.of(model, other, include.getValue())));
    }
    return PCollectionList.of(earlier)
        .apply("earlier records of " + model.name(), Flatten.pCollections())
        .setRowSchema(model.schema());
  }
}
