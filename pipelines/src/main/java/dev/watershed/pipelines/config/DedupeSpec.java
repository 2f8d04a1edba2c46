package dev.watershed.pipelines.config;

import dev.watershed.transforms.dedupe.Dedupe;
import java.util.List;

/** The dedupe rule of one model, under {@code dedupe:}. */
public record DedupeSpec(
    String model, List<String> key, Dedupe.Keep keep, String orderBy, List<String> tieBreak) {}
