package dev.watershed.pipelines.config;

import java.util.List;
import java.util.Set;

/**
 * What a source needs to know of the run to read: the spec, the columns the conform rules read, the
 * range planned for it (null when it is read whole or has no range yet), and columns the drift
 * check found missing (read as null).
 */
public record ReadContext(
    Spec spec, List<String> columns, ReadRange range, Set<String> missingColumns) {}
