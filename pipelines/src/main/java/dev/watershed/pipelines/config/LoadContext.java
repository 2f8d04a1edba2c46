package dev.watershed.pipelines.config;

import dev.watershed.io.WriteMode;
import dev.watershed.io.sync.SyncLedger;
import dev.watershed.transforms.model.CanonicalModel;
import java.time.Instant;
import java.util.Map;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * What a sink needs to know of the run to load one model: the spec, the model, the write mode in
 * effect (a replay appends where the spec overwrites), the quality gate (null when nothing gates
 * the load), the source marks a table commits with the rows, and the run's clock.
 *
 * @param versionColumn the column whose newer value wins a merge, or null
 * @param marks the marks planned before the run, by source (where each source read up to)
 * @param foundMarks marks found in the data as the run goes, by source ({@link
 *     SourceConfig#markField}); where one holds a value it replaces the planned mark
 * @param ledger where a synced sink ({@link SinkConfig#sync}) records what it received, or null;
 *     its rows are then the diff's: only what changed, and for a mirror deletes marked {@code
 *     _deleted}
 */
public record LoadContext(
    Spec spec,
    CanonicalModel model,
    WriteMode mode,
    String versionColumn,
    PCollectionView<Boolean> gate,
    Map<String, String> marks,
    Map<String, PCollectionView<String>> foundMarks,
    Instant now,
    SyncLedger ledger) {}
