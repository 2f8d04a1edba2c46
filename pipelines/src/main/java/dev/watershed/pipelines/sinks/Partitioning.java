package dev.watershed.pipelines.sinks;

import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.YamlObject;
import dev.watershed.transforms.model.CanonicalModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.ScalarNode;

/** {@code partition_by:} of a sink: one field for every model that has it, or a field per model. */
final class Partitioning {
  static final Key KEY =
      Key.stringOrMap(
          "partition_by",
          "the field to partition by: one name for every model that has it, or model: field");

  private Partitioning() {}

  /** The partition field of each model the sink writes ({@code written}: the models it takes). */
  static Map<String, String> parse(YamlObject sink, List<String> written, ParseContext context) {
    Map<String, String> partitionBy = new LinkedHashMap<>();
    if (!sink.has("partition_by")) {
      return partitionBy;
    }
    Map<String, CanonicalModel> models = context.models();
    List<String> targets = written.isEmpty() ? List.copyOf(models.keySet()) : written;
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
        sink.error("partition_by", "no model written by this sink has a field '" + column + "'");
      }
      return partitionBy;
    }
    YamlObject byModel = sink.object("partition_by", false);
    for (String model : byModel.keys()) {
      String column = byModel.string(model, true);
      CanonicalModel m = models.get(model);
      if (m == null && !context.declaredModels().contains(model)) {
        byModel.error(model, "no model named '" + model + "'; models: " + models.keySet());
      } else if (m == null) {
        continue;
      } else if (column != null && (!m.schema().hasField(column) || column.startsWith("_"))) {
        byModel.error(model, "model '" + model + "' has no field '" + column + "'");
      } else {
        partitionBy.put(model, column);
      }
    }
    return partitionBy;
  }
}
