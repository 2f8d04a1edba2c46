package dev.watershed.pipelines.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves {@code ${env:NAME}} and {@code ${file:PATH}} references in spec values, and remembers
 * every resolved value as a secret so that no output shows it.
 *
 * <p>A reference may stand alone or inside other text ({@code jdbc:postgresql://${env:DB_HOST}/x}).
 * A file's content is used without its trailing line break. A missing variable or unreadable file
 * is a spec error at the value's path and line; the error names the variable or file, never a
 * value.
 */
final class References {
  private static final Pattern REFERENCE = Pattern.compile("\\$\\{(env|file):([^}]+)}");

  private final Map<String, String> environment;
  private final Path baseDir;
  private final List<SpecError> errors;
  private final Set<String> secrets = new LinkedHashSet<>();

  References(Map<String, String> environment, Path baseDir, List<SpecError> errors) {
    this.environment = environment;
    this.baseDir = baseDir;
    this.errors = errors;
  }

  String resolve(String text, String path, int line) {
    if (text == null || !text.contains("${")) {
      return text;
    }
    Matcher matcher = REFERENCE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      String kind = matcher.group(1);
      String name = matcher.group(2).trim();
      String value;
      if (kind.equals("env")) {
        value = environment.get(name);
        if (value == null) {
          errors.add(
              new SpecError(
                  path,
                  line,
                  "environment variable "
                      + name
                      + " is not set; set it before running, e.g. export "
                      + name
                      + "=..."));
          value = "";
        }
      } else {
        Path file = baseDir.resolve(name);
        try {
          value = Files.readString(file, StandardCharsets.UTF_8).stripTrailing();
        } catch (IOException e) {
          errors.add(
              new SpecError(
                  path,
                  line,
                  "cannot read secret file " + name + "; check that it exists and is readable"));
          value = "";
        }
      }
      if (!value.isEmpty()) {
        secrets.add(value);
      }
      matcher.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    matcher.appendTail(out);
    return out.toString();
  }

  Set<String> secrets() {
    return secrets;
  }
}
