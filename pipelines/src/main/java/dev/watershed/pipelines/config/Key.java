package dev.watershed.pipelines.config;

import java.util.List;

/**
 * One key a block of the spec accepts, with its type and description: what {@code validate} accepts
 * and what the spec's JSON Schema documents come from the same list.
 *
 * @param allowed the values a {@link Kind#STRING} key takes, empty when any
 * @param children the keys of a {@link Kind#OBJECT} key's block
 */
public record Key(
    String name, Kind kind, String description, List<String> allowed, List<Key> children) {

  /** What a key's value is. */
  public enum Kind {
    STRING,
    INTEGER,
    BOOLEAN,
    /** A positive whole number and a unit: {@code 500ms}, {@code 30s}, {@code 5m}, ... */
    DURATION,
    /** One string or a list of strings. */
    STRINGS,
    /** A block with the keys in {@code children}. */
    OBJECT,
    /** A block of names to strings (a column's type, a model's field). */
    MAP,
    /** One string, or a block of names to strings. */
    STRING_OR_MAP,
    /** A block of names to blocks of names to strings (a model's field mapping, per model). */
    MAPS,
    /** A list of blocks, each with the keys in {@code children}. */
    OBJECTS
  }

  public static Key string(String name, String description) {
    return new Key(name, Kind.STRING, description, List.of(), List.of());
  }

  public static Key oneOf(String name, String description, String... allowed) {
    return new Key(name, Kind.STRING, description, List.of(allowed), List.of());
  }

  public static Key integer(String name, String description) {
    return new Key(name, Kind.INTEGER, description, List.of(), List.of());
  }

  public static Key bool(String name, String description) {
    return new Key(name, Kind.BOOLEAN, description, List.of(), List.of());
  }

  public static Key duration(String name, String description) {
    return new Key(name, Kind.DURATION, description, List.of(), List.of());
  }

  public static Key strings(String name, String description) {
    return new Key(name, Kind.STRINGS, description, List.of(), List.of());
  }

  public static Key map(String name, String description) {
    return new Key(name, Kind.MAP, description, List.of(), List.of());
  }

  public static Key maps(String name, String description) {
    return new Key(name, Kind.MAPS, description, List.of(), List.of());
  }

  public static Key stringOrMap(String name, String description) {
    return new Key(name, Kind.STRING_OR_MAP, description, List.of(), List.of());
  }

  public static Key objects(String name, String description, List<Key> children) {
    return new Key(name, Kind.OBJECTS, description, List.of(), List.copyOf(children));
  }

  public static Key object(String name, String description, Key... children) {
    return new Key(name, Kind.OBJECT, description, List.of(), List.of(children));
  }
}
