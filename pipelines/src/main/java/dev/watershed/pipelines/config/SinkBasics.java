package dev.watershed.pipelines.config;

import dev.watershed.io.WriteMode;
import java.util.List;

/**
 * What every sink declares whatever its type: name, type, line, how it writes ({@code write:}) and
 * the models it takes ({@code models:}, empty: all).
 */
public record SinkBasics(String name, String type, int line, WriteMode mode, List<String> models) {}
