package dev.watershed.pipelines.config;

import dev.watershed.transforms.dedupe.Dedupe;
import java.util.List;
import java.util.Map;

/**
 * The dedupe rule of one model, under {@code dedupe:}; {@code prefer} holds, per field, the sources
 * whose value wins in that order ({@link Dedupe#withPreferredSources}).
 */
public record DedupeSpec(
    String model,
    List<String> key,
    Dedupe.Keep keep,
    String orderBy,
    List<String> tieBreak,
    Map<String, List<String>> prefer) {}
