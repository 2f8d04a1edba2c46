package dev.watershed.pipelines.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML mapping being read into a spec, that remembers its path and line so that every problem can
 * be reported as {@code line 12: sources.crm.path: ...}. Problems are collected, not thrown, so one
 * run of the parser reports all of them.
 */
public final class YamlObject {
  private final String path;
  private final Node node;
  private final Map<String, Node> entries = new LinkedHashMap<>();
  private final Map<String, Node> keys = new LinkedHashMap<>();
  private final List<SpecError> errors;
  private final References resolver;

  private YamlObject(String path, Node node, List<SpecError> errors, References resolver) {
    this.path = path;
    this.node = node;
    this.errors = errors;
    this.resolver = resolver;
    if (node instanceof MappingNode mapping) {
      for (NodeTuple tuple : mapping.getValue()) {
        String key =
            tuple.getKeyNode() instanceof ScalarNode scalar
                ? scalar.getValue()
                : String.valueOf(tuple.getKeyNode());
        if (entries.containsKey(key)) {
          errors.add(
              new SpecError(child(key), line(tuple.getKeyNode()), "duplicate key '" + key + "'"));
        }
        entries.put(key, tuple.getValueNode());
        keys.put(key, tuple.getKeyNode());
      }
    }
  }

  /** Wraps {@code node}, reporting an error when it is not a mapping. */
  static YamlObject of(String path, Node node, List<SpecError> errors, References resolver) {
    if (node != null && !(node instanceof MappingNode)) {
      errors.add(new SpecError(path, line(node), "expected a mapping of keys to values"));
    }
    return new YamlObject(path, node, errors, resolver);
  }

  static int line(Node node) {
    return node == null ? 0 : node.getStartMark().getLine() + 1;
  }

  public String path() {
    return path;
  }

  public int line() {
    return line(node);
  }

  public String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  public int lineOf(String key) {
    Node value = entries.get(key);
    return value != null ? line(value) : line();
  }

  public Set<String> keys() {
    return entries.keySet();
  }

  public boolean has(String key) {
    return entries.containsKey(key);
  }

  public Node node(String key) {
    return entries.get(key);
  }

  public void error(String key, String message) {
    errors.add(
        new SpecError(
            key == null ? path : child(key), key == null ? line() : lineOf(key), message));
  }

  /** Reports every key not in {@code allowed}, naming the allowed ones. */
  public void rejectUnknown(Set<String> allowed) {
    for (Map.Entry<String, Node> key : keys.entrySet()) {
      if (!allowed.contains(key.getKey())) {
        errors.add(
            new SpecError(
                child(key.getKey()),
                line(key.getValue()),
                "unknown key '"
                    + key.getKey()
                    + "'; allowed here: "
                    + String.join(", ", allowed.stream().sorted().toList())));
      }
    }
  }

  /** A scalar value with references resolved, or null (and an error when required) if absent. */
  public String string(String key, boolean required) {
    Node value = entries.get(key);
    if (value == null) {
      if (required) {
        error(null, "missing required key '" + key + "'");
      }
      return null;
    }
    return scalar(child(key), value);
  }

  public String string(String key, String fallback) {
    String value = string(key, false);
    return value == null ? fallback : value;
  }

  String scalar(String at, Node value) {
    if (!(value instanceof ScalarNode scalar)) {
      errors.add(new SpecError(at, line(value), "expected a single value, not a list or mapping"));
      return null;
    }
    return resolver.resolve(scalar.getValue(), at, line(value));
  }

  /** A list of scalars; a single scalar counts as a list of one. */
  public List<String> strings(String key) {
    Node value = entries.get(key);
    List<String> out = new ArrayList<>();
    if (value == null) {
      return out;
    }
    if (value instanceof SequenceNode sequence) {
      int i = 0;
      for (Node item : sequence.getValue()) {
        String text = scalar(child(key) + "[" + i++ + "]", item);
        if (text != null) {
          out.add(text);
        }
      }
      return out;
    }
    String single = scalar(child(key), value);
    if (single != null) {
      out.add(single);
    }
    return out;
  }

  public Integer integer(String key, int fallback) {
    String text = string(key, false);
    if (text == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      error(key, "expected a whole number, got '" + text + "'");
      return fallback;
    }
  }

  /** A duration such as {@code 30s} or {@code 5m}, or the fallback when absent. */
  public Duration duration(String key, Duration fallback) {
    String text = string(key, false);
    if (text == null) {
      return fallback;
    }
    try {
      return SpecParser.parseDuration(text);
    } catch (IllegalArgumentException e) {
      error(key, e.getMessage());
      return fallback;
    }
  }

  /** {@code true} or {@code false}, or the fallback when absent. */
  public boolean bool(String key, boolean fallback) {
    String text = string(key, false);
    if (text == null) {
      return fallback;
    }
    if (!text.equals("true") && !text.equals("false")) {
      error(key, "expected true or false, got '" + text + "'");
      return fallback;
    }
    return text.equals("true");
  }

  /** A nested mapping; absent gives an empty one (and an error when required). */
  public YamlObject object(String key, boolean required) {
    Node value = entries.get(key);
    if (value == null && required) {
      error(null, "missing required key '" + key + "'");
    }
    return of(child(key), value, errors, resolver);
  }

  /** Each entry of a mapping as a nested mapping, in order. */
  public Map<String, YamlObject> objects() {
    Map<String, YamlObject> out = new LinkedHashMap<>();
    for (Map.Entry<String, Node> entry : entries.entrySet()) {
      out.put(entry.getKey(), of(child(entry.getKey()), entry.getValue(), errors, resolver));
    }
    return out;
  }

  /** Each item of a sequence under {@code key} as a mapping. */
  public List<YamlObject> list(String key) {
    Node value = entries.get(key);
    List<YamlObject> out = new ArrayList<>();
    if (value == null) {
      return out;
    }
    if (!(value instanceof SequenceNode sequence)) {
      error(key, "expected a list (items starting with '-')");
      return out;
    }
    int i = 0;
    for (Node item : sequence.getValue()) {
      out.add(of(child(key) + "[" + i++ + "]", item, errors, resolver));
    }
    return out;
  }
}
