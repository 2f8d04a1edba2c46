package dev.watershed.pipelines.config;

import java.util.Map;

/**
 * What every source declares whatever its type: its name, type and line in the spec, the column
 * types it declares under {@code schema:} (empty: the schema recorded by the first run), and its
 * {@code drift:} policy.
 */
public record SourceBasics(
    String name, String type, int line, Map<String, String> schema, String drift) {}
