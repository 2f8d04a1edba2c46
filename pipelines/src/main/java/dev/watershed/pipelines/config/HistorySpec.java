package dev.watershed.pipelines.config;

import java.util.List;

/**
 * Type 2 history of one model, under {@code history:}: the tracked columns, how a change is told
 * ({@code check} compares the tracked columns, {@code timestamp} compares {@code updatedAt}) and
 * what happens to keys missing from a run ({@code ignore}, {@code invalidate}, {@code new_record}).
 */
public record HistorySpec(
    String model, List<String> tracked, String strategy, String updatedAt, String deletes) {}
