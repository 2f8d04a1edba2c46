package dev.watershed.pipelines.config;

import java.util.Collections;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The source and sink types Watershed knows, by the name {@code type:} selects them with. Types
 * register through {@link ServiceLoader} ({@code META-INF/services}), so the parser and the
 * composer find a new type without a line changed in either, and a library user can add their own
 * on the class path.
 */
public final class Registry {
  private static final Map<String, SourceType> SOURCES = load(SourceType.class, SourceType::name);
  private static final Map<String, SinkType> SINKS = load(SinkType.class, SinkType::name);

  private Registry() {}

  /** Every source type, by name, sorted. */
  public static Map<String, SourceType> sources() {
    return SOURCES;
  }

  /** Every sink type, by name, sorted. */
  public static Map<String, SinkType> sinks() {
    return SINKS;
  }

  private static <T> Map<String, T> load(Class<T> kind, Function<T, String> name) {
    Map<String, T> out = new TreeMap<>();
    for (T type : ServiceLoader.load(kind, Registry.class.getClassLoader())) {
      T earlier = out.put(name.apply(type), type);
      if (earlier != null) {
        throw new IllegalStateException(
            "two "
                + kind.getSimpleName()
                + "s are named '"
                + name.apply(type)
                + "': "
                + earlier.getClass().getName()
                + " and "
                + type.getClass().getName());
      }
    }
    return Collections.unmodifiableMap(out);
  }
}
