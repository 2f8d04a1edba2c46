package dev.watershed.transforms.metrics;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.MetricsContainer;
import org.apache.beam.sdk.metrics.MetricsEnvironment;

/**
 * The counters a run reconciles with ({@code source.<name>.read}, {@code model.<name>.loaded},
 * ...), in Beam's namespace {@code watershed}.
 *
 * <p>Each counter is a Beam counter, which the runner aggregates and reports when the job ends, and
 * also a tally in this JVM. The tally is what a job that never ends reports: embedded Flink runs a
 * streaming job in this JVM and gives no counters until it finishes, so {@code watershed run
 * --mode=streaming} reconciles from the tallies when it stops. Tallies count every attempt (a
 * bundle retried after a failure counts again), as Beam's attempted metrics do. Each counter also
 * notes when it first and last counted ({@link #timeline()}): the run report's stage timeline.
 */
public final class RunCounters {
  public static final String NAMESPACE = "watershed";
  private static final Map<String, LongAdder> TALLIES = new ConcurrentHashMap<>();

  private RunCounters() {}

  /** The counter {@code name} in namespace {@value #NAMESPACE}. */
  public static Counter counter(String name) {
    return new Tally(name);
  }

  /**
   * Starts a new timeline: from now on each counter notes, in this JVM, when it first and last
   * counted ({@link #timeline()}). A run starts one before its job runs; runs in one JVM one after
   * the other each see their own, runs at the same time in one JVM would share one.
   */
  public static void startTimeline() {
    timeline = new ConcurrentHashMap<>();
  }

  /**
   * When each counter first and last counted since {@link #startTimeline()}, in this JVM, as epoch
   * milliseconds. Empty for work done in other processes (a Flink cluster's task managers,
   * Dataflow's workers), which only report counts.
   */
  public static Map<String, Marks> timeline() {
    Map<String, Marks> out = new TreeMap<>();
    timeline.forEach((name, times) -> out.put(name, times.marks()));
    return out;
  }

  /** When a counter first and last counted, epoch milliseconds. */
  public record Marks(long first, long last) {}

  /** A counter's marks as they are being taken: the first time once, the last by maximum. */
  private static final class Times {
    private final AtomicLong first = new AtomicLong();
    private final LongAccumulator last = new LongAccumulator(Math::max, 0);

    void touch(long now) {
      if (first.get() == 0) {
        first.compareAndSet(0, now);
      }
      last.accumulate(now);
    }

    Marks marks() {
      return new Marks(first.get(), last.get());
    }
  }

  private static volatile Map<String, Times> timeline = new ConcurrentHashMap<>();

  /** The tallies of this JVM by name, since the last {@link #resetTallies()}; zeros left out. */
  public static Map<String, Long> tallies() {
    Map<String, Long> out = new TreeMap<>();
    TALLIES.forEach(
        (name, value) -> {
          long sum = value.sum();
          if (sum != 0) {
            out.put(name, sum);
          }
        });
    return out;
  }

  /**
   * Sets every tally back to zero, at the start of a run (counters keep their tally, so the tallies
   * are reset rather than forgotten).
   */
  public static void resetTallies() {
    TALLIES.values().forEach(LongAdder::reset);
  }

  /**
   * A Beam counter and a tally. A counter belongs to one DoFn instance, which Beam uses from one
   * thread at a time, so it keeps the cell of the last metrics container it reported to: Beam's own
   * counter looks the cell up by name on every increment (measured: a tenth of a load's CPU with a
   * counter per stage).
   */
  private static final class Tally implements Counter, Serializable {
    private final String name;
    private final MetricName metricName;
    private transient LongAdder tally;
    private transient MetricsContainer container;
    private transient Counter cell;
    private transient Map<String, Times> timelineSeen;
    private transient Times times;

    Tally(String name) {
      this.name = name;
      this.metricName = MetricName.named(NAMESPACE, name);
    }

    @Override
    public void inc() {
      inc(1);
    }

    @Override
    public void inc(long n) {
      MetricsContainer current = MetricsEnvironment.getCurrentContainer();
      if (current != null) {
        if (current != container) {
          cell = current.getCounter(metricName);
          container = current;
        }
        cell.inc(n);
      }
      if (tally == null) {
        tally = TALLIES.computeIfAbsent(name, k -> new LongAdder());
      }
      tally.add(n);
      Map<String, Times> marks = timeline;
      if (marks != timelineSeen) {
        times = marks.computeIfAbsent(name, k -> new Times());
        timelineSeen = marks;
      }
      times.touch(System.currentTimeMillis());
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
      return metricName;
    }
  }
}
