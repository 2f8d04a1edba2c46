package dev.watershed.pipelines.config;

import dev.watershed.transforms.identity.BlockingKey;
import dev.watershed.transforms.identity.Comparison;
import dev.watershed.transforms.identity.FellegiSunter;
import java.util.List;
import java.util.Map;

/**
 * Identity resolution of one model, under {@code identity:}: how records are blocked and compared,
 * the match threshold, and how the golden record's fields are chosen.
 *
 * <p>{@code weights}, when given (m and u on every comparison, and {@code prior}), score pairs
 * instead of weights estimated from the data.
 *
 * <p>{@code matchRule}, when given, decides matches instead of the Fellegi-Sunter model: an
 * expression over each compared field's similarity.
 *
 * <p>{@code survivorship} maps a field to {@code most_recent}, {@code most_frequent}, {@code
 * non_null_first} or a source priority list; fields not listed use {@code defaultRule}. {@code
 * orderBy} is the field that says which record is most recent.
 *
 * <p>{@code include} brings records of other models into the resolution: for each other model,
 * which of its fields stands for which field of this model (e.g. a billing account's {@code
 * customer_email} for a customer's {@code email}). Such records are blocked, compared, clustered
 * and written to the crosswalk like the model's own, keyed by their own key, and give their mapped
 * values to survivorship.
 */
public record IdentitySpec(
    String model,
    List<BlockingKey> blocking,
    List<Comparison> comparisons,
    double threshold,
    String orderBy,
    String defaultRule,
    Map<String, String> survivorship,
    List<String> sourcePriority,
    String matchRule,
    FellegiSunter weights,
    Map<String, Map<String, String>> include) {

  /** The survivorship rules a field may name. */
  public static final List<String> RULES =
      List.of("most_recent", "most_frequent", "non_null_first");

  public String ruleFor(String field) {
    return survivorship.getOrDefault(field, defaultRule);
  }
}
