package dev.watershed.transforms.identity;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A Fellegi-Sunter model: for each comparison and level, m (the probability of that level among
 * true matches) and u (among non-matches), and the share of matches among candidate pairs. A pair's
 * match weight is the sum of log2(m/u) over its comparisons (missing levels add nothing); its match
 * probability follows from the weights and the share.
 *
 * <p>{@link #estimate} fits m, u and the share to the candidate pairs by expectation-maximisation,
 * from the counts of each distinct pattern of levels, so no labelled data is needed.
 */
public final class FellegiSunter implements Serializable {
  private static final double FLOOR = 1e-6;

  private final double share;
  private final double[][] m;
  private final double[][] u;

  FellegiSunter(double share, double[][] m, double[][] u) {
    this.share = share;
    this.m = m;
    this.u = u;
  }

  /**
   * A model with weights given rather than estimated: for each comparison, m and u per level (each
   * list as long as the comparison's levels, summing to 1), and the share of matches among
   * candidate pairs.
   *
   * @throws IllegalArgumentException naming the comparison whose probabilities do not fit
   */
  public static FellegiSunter of(
      double share, List<Comparison> comparisons, List<List<Double>> m, List<List<Double>> u) {
    if (share <= 0 || share >= 1) {
      throw new IllegalArgumentException(
          "the share of matches must be between 0 and 1, got " + share);
    }
    double[][] mm = new double[comparisons.size()][];
    double[][] uu = new double[comparisons.size()][];
    for (int c = 0; c < comparisons.size(); c++) {
      Comparison comparison = comparisons.get(c);
      mm[c] = probabilities(comparison, "m", m.get(c));
      uu[c] = probabilities(comparison, "u", u.get(c));
    }
    return new FellegiSunter(share, mm, uu);
  }

  private static double[] probabilities(Comparison comparison, String name, List<Double> values) {
    if (values.size() != comparison.levels()) {
      throw new IllegalArgumentException(
          comparison
              + ": "
              + name
              + " needs "
              + comparison.levels()
              + " probabilities, one per level, got "
              + values.size());
    }
    double sum = values.stream().mapToDouble(Double::doubleValue).sum();
    if (Math.abs(sum - 1) > 0.001 || values.stream().anyMatch(v -> v <= 0)) {
      throw new IllegalArgumentException(
          comparison + ": " + name + " must be positive and sum to 1, got " + values);
    }
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** Starting values: matches mostly agree, non-matches mostly disagree, 10% matches. */
  public static FellegiSunter initial(List<Comparison> comparisons) {
    double[][] m = new double[comparisons.size()][];
    double[][] u = new double[comparisons.size()][];
    for (int c = 0; c < comparisons.size(); c++) {
      int levels = comparisons.get(c).levels();
      m[c] = new double[levels];
      u[c] = new double[levels];
      for (int l = 0; l < levels; l++) {
        m[c][l] = l == 0 ? 0.9 : 0.1 / (levels - 1);
        u[c][l] = l == levels - 1 ? 0.9 : 0.1 / (levels - 1);
      }
    }
    return new FellegiSunter(0.1, m, u);
  }

  /** The log2 Bayes factor of a pattern of levels. */
  public double weight(int[] levels) {
    double w = 0;
    for (int c = 0; c < levels.length; c++) {
      if (levels[c] != Comparison.MISSING) {
        w += Math.log(m[c][levels[c]] / u[c][levels[c]]) / Math.log(2);
      }
    }
    return w;
  }

  /** The probability that a pair with these levels is a match. */
  public double probability(int[] levels) {
    double odds = Math.pow(2, weight(levels)) * share / (1 - share);
    return Double.isInfinite(odds) ? 1.0 : odds / (1 + odds);
  }

  public double share() {
    return share;
  }

  /**
   * Fits the model to candidate pairs by expectation-maximisation: {@code patterns} maps each
   * distinct pattern of levels to how many pairs have it. Stops after {@code maxIterations} or when
   * no parameter moves by more than {@code tolerance}.
   */
  public FellegiSunter estimate(
      Map<List<Integer>, Long> patterns, int maxIterations, double tolerance) {
    FellegiSunter model = this;
    for (int iteration = 0; iteration < maxIterations; iteration++) {
      FellegiSunter next = model.step(patterns);
      double moved = next.distance(model);
      model = next;
      if (moved < tolerance) {
        break;
      }
    }
    return model;
  }

  private FellegiSunter step(Map<List<Integer>, Long> patterns) {
    int comparisons = m.length;
    double[][] mSum = new double[comparisons][];
    double[][] uSum = new double[comparisons][];
    for (int c = 0; c < comparisons; c++) {
      mSum[c] = new double[m[c].length];
      uSum[c] = new double[u[c].length];
    }
    double matches = 0;
    double total = 0;
    for (Map.Entry<List<Integer>, Long> pattern : patterns.entrySet()) {
      int[] levels = pattern.getKey().stream().mapToInt(Integer::intValue).toArray();
      double n = pattern.getValue();
      double g = probability(levels);
      matches += n * g;
      total += n;
      for (int c = 0; c < comparisons; c++) {
        if (levels[c] != Comparison.MISSING) {
          mSum[c][levels[c]] += n * g;
          uSum[c][levels[c]] += n * (1 - g);
        }
      }
    }
    double[][] nextM = new double[comparisons][];
    double[][] nextU = new double[comparisons][];
    for (int c = 0; c < comparisons; c++) {
      nextM[c] = normalize(mSum[c]);
      nextU[c] = normalize(uSum[c]);
    }
    double nextShare = Math.min(1 - FLOOR, Math.max(FLOOR, total == 0 ? share : matches / total));
    return new FellegiSunter(nextShare, nextM, nextU);
  }

  private static double[] normalize(double[] counts) {
    double sum = 0;
    for (double c : counts) {
      sum += c + FLOOR;
    }
    double[] out = new double[counts.length];
    for (int i = 0; i < counts.length; i++) {
      out[i] = (counts[i] + FLOOR) / sum;
    }
    return out;
  }

  private double distance(FellegiSunter other) {
    double d = Math.abs(share - other.share);
    for (int c = 0; c < m.length; c++) {
      for (int l = 0; l < m[c].length; l++) {
        d =
            Math.max(
                d, Math.max(Math.abs(m[c][l] - other.m[c][l]), Math.abs(u[c][l] - other.u[c][l])));
      }
    }
    return d;
  }

  /** m and u of each comparison, for reports. */
  public String describe(List<Comparison> comparisons) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "match share %.4f%n", share));
    for (int c = 0; c < comparisons.size(); c++) {
      s.append("  ").append(comparisons.get(c)).append(':');
      for (int l = 0; l < m[c].length; l++) {
        s.append(String.format(Locale.ROOT, " L%d m=%.3f u=%.4f", l, m[c][l], u[c][l]));
      }
      s.append(System.lineSeparator());
    }
    return s.toString();
  }
}
