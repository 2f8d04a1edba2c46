package dev.watershed.transforms.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * The counters a run reconciles with ({@code source.<name>.read}, {@code model.<name>.loaded},
 * ...), in Beam's namespace {@code watershed}.
 *
 * <p>Each counter is a Beam counter, which the runner aggregates and reports when the job ends, and
 * also a tally in this JVM. The tally is what a job that never ends reports: embedded Flink runs a
 * streaming job in this JVM and gives no counters until it finishes, so {@code watershed run
 * --mode=streaming} reconciles from the tallies when it stops. Tallies count every attempt (a
 * bundle retried after a failure counts again), as Beam's attempted metrics do.
 */
public final class RunCounters {
  public static final String NAMESPACE = "watershed";
  private static final Map<String, AtomicLong> TALLIES = new ConcurrentHashMap<>();

  private RunCounters() {}

  /** The counter {@code name} in namespace {@value #NAMESPACE}. */
  public static Counter counter(String name) {
    return new Tally(name, Metrics.counter(NAMESPACE, name));
  }

  /** The tallies of this JVM by name, since the last {@link #resetTallies()}. */
  public static Map<String, Long> tallies() {
    Map<String, Long> out = new TreeMap<>();
    TALLIES.forEach((name, value) -> out.put(name, value.get()));
    return out;
  }

  /** Forgets the tallies, at the start of a run. */
  public static void resetTallies() {
    TALLIES.clear();
  }

  private static final class Tally implements Counter, java.io.Serializable {
    private final String name;
    private final Counter counter;

    Tally(String name, Counter counter) {
      this.name = name;
      this.counter = counter;
    }

    @Override
    public void inc() {
      inc(1);
    }

    @Override
    public void inc(long n) {
      counter.inc(n);
      TALLIES.computeIfAbsent(name, k -> new AtomicLong()).addAndGet(n);
    }

    @Override
    public void dec() {
      inc(-1);
    }

    @Override
    public void dec(long n) {
      inc(-n);
    }

    @Override
    public MetricName getName() {
      return counter.getName();
    }
  }
}
