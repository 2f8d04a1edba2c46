package dev.watershed.transforms.identity;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * A blocking key: records are compared only when they share the value of at least one blocking key,
 * so candidate pairs stay far below n². A key is one or more fields, each taken whole, by its
 * Soundex code, by its first letters or by its year.
 *
 * <pre>{@code
 * BlockingKey.of("postcode");
 * BlockingKey.of("surname:soundex", "date_of_birth:year");
 * BlockingKey.of("given_name:first3", "surname:first3");
 * }</pre>
 */
public final class BlockingKey implements Serializable {
  private final List<String> parts;

  private BlockingKey(List<String> parts) {
    this.parts = List.copyOf(parts);
  }

  /** Parts written {@code field} or {@code field:soundex|firstN|year}. */
  public static BlockingKey of(String... parts) {
    for (String part : parts) {
      String derive = part.contains(":") ? part.substring(part.indexOf(':') + 1) : "";
      if (!derive.isEmpty()
          && !derive.equals("soundex")
          && !derive.equals("year")
          && !derive.matches("first[1-9]")) {
        throw new IllegalArgumentException(
            "unknown blocking derivation '" + derive + "'; allowed: soundex, year, first1..first9");
      }
    }
    return new BlockingKey(List.of(parts));
  }

  public List<String> fields() {
    return parts.stream().map(p -> p.contains(":") ? p.substring(0, p.indexOf(':')) : p).toList();
  }

  /**
   * The key's value for a record, or null when a part is empty (the record is not blocked on it).
   */
  public String value(Function<String, String> field) {
    StringBuilder key = new StringBuilder(toString()).append('=');
    for (String part : parts) {
      String name = part.contains(":") ? part.substring(0, part.indexOf(':')) : part;
      String derive = part.contains(":") ? part.substring(part.indexOf(':') + 1) : "";
      String value = field.apply(name);
      if (value == null || value.isBlank()) {
        return null;
      }
      value = value.strip().toLowerCase(Locale.ROOT);
      if (derive.equals("soundex")) {
        value = Similarity.soundex(value);
      } else if (derive.equals("year")) {
        value = value.length() >= 4 ? value.substring(0, 4) : value;
      } else if (derive.startsWith("first")) {
        int n = derive.charAt(5) - '0';
        value = value.length() > n ? value.substring(0, n) : value;
      }
      if (value.isEmpty()) {
        return null;
      }
      key.append(value).append('\u0001');
    }
    return key.toString();
  }

  @Override
  public String toString() {
    return String.join("+", parts);
  }
}
