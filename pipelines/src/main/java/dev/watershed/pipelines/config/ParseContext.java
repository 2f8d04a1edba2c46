package dev.watershed.pipelines.config;

import dev.watershed.transforms.model.CanonicalModel;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What parsing one section needs of the rest of the spec: where relative paths start, the names
 * declared (a reference to a broken declaration is not a second problem), the models parsed, and
 * problems that belong to no single key.
 */
public final class ParseContext {
  private final Path baseDir;
  private final List<SpecError> errors;
  private final Set<Path> reportedFiles = new HashSet<>();
  // Sources with a drift policy: their columns may come and go, so their columns are not checked.
  private final Set<String> driftManaged = new HashSet<>();
  private Set<String> declaredSources = Set.of();
  private Set<String> declaredModels = Set.of();
  private Map<String, CanonicalModel> models = Map.of();

  ParseContext(Path baseDir, List<SpecError> errors) {
    this.baseDir = baseDir;
    this.errors = errors;
  }

  /** The folder relative paths in the spec start from. */
  public Path baseDir() {
    return baseDir;
  }

  /** A problem at {@code path} (a YAML path such as {@code sources.crm}) and {@code line}. */
  public void error(String path, int line, String message) {
    errors.add(new SpecError(path, line, message));
  }

  /** True the first time a problem with {@code file} is reported (several entries read one). */
  public boolean firstReportOf(Path file) {
    return reportedFiles.add(file);
  }

  /** Reports a {@code path} under {@code key} that matches no file; URLs are not checked. */
  public void checkFilesExist(YamlObject block, String key, String path) {
    if (path == null || path.contains("://")) {
      return;
    }
    if (FileMatches.of(baseDir, path).isEmpty()) {
      block.error(
          key,
          "no file matches " + path + " (paths are relative to " + baseDir + "); check the path");
    }
  }

  /** Reports a file named under {@code key} that does not exist. */
  public void checkFileExists(YamlObject block, String key, String file) {
    if (file != null && !baseDir.resolve(file).toFile().isFile()) {
      block.error(key, "file " + file + " not found (paths are relative to " + baseDir + ")");
    }
  }

  /** The models parsed so far, by name (those with problems left out). */
  public Map<String, CanonicalModel> models() {
    return models;
  }

  /** Every model name declared, broken declarations included. */
  public Set<String> declaredModels() {
    return declaredModels;
  }

  public Set<String> declaredSources() {
    return declaredSources;
  }

  /** True when {@code source} declares a drift policy (its columns may come and go). */
  public boolean driftManaged(String source) {
    return driftManaged.contains(source);
  }

  void driftManaged(String source, boolean managed) {
    if (managed) {
      driftManaged.add(source);
    }
  }

  void declared(Set<String> sources, Set<String> models) {
    this.declaredSources = Set.copyOf(sources);
    this.declaredModels = Set.copyOf(models);
  }

  void models(Map<String, CanonicalModel> parsed) {
    this.models = new LinkedHashMap<>(parsed);
  }
}
