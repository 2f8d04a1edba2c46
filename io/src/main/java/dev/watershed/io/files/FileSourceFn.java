package dev.watershed.io.files;

import dev.watershed.transforms.deadletter.DeadLetter;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads whole files into raw rows, sending records it cannot parse to a dead-letter output with
 * stage {@value #STAGE}. Subclasses parse one format.
 */
abstract class FileSourceFn extends DoFn<FileIO.ReadableFile, Row> {
  /** The stage name written into dead letters. */
  static final String STAGE = "extract";

  static final TupleTag<Row> ROWS = new TupleTag<>("rows");
  static final TupleTag<Row> DEAD = new TupleTag<>("dead_letters");

  final String sourceName;
  final Schema schema;
  private final Counter read;

  FileSourceFn(String sourceName, Schema schema) {
    this.sourceName = sourceName;
    this.schema = schema;
    this.read =
        dev.watershed.transforms.metrics.RunCounters.counter("source." + sourceName + ".read");
  }

  /** Matches {@code filepattern} and reads every file with {@code fn}: rows and dead letters. */
  static WithFailures.Result<PCollection<Row>, Row> readFiles(
      PBegin input, String filepattern, String stepName, FileSourceFn fn) {
    PCollectionTuple out =
        input
            .apply("Match", FileIO.match().filepattern(filepattern))
            .apply("Open", FileIO.readMatches())
            .apply(stepName, ParDo.of(fn).withOutputTags(ROWS, TupleTagList.of(DEAD)));
    return WithFailures.Result.of(
        out.get(ROWS).setRowSchema(fn.schema), out.get(DEAD).setRowSchema(DeadLetter.SCHEMA));
  }

  @ProcessElement
  public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) throws Exception {
    String name = fileName(file);
    readFile(file, name, new Emitter(out, name));
  }

  abstract void readFile(FileIO.ReadableFile file, String name, Emitter emit) throws Exception;

  static String fileName(FileIO.ReadableFile file) {
    return file.getMetadata().resourceId().getFilename();
  }

  /** Emits good rows and dead letters for one file, counting every record read. */
  final class Emitter {
    private final MultiOutputReceiver out;
    private final String file;

    Emitter(MultiOutputReceiver out, String file) {
      this.out = out;
      this.file = file;
    }

    void row(Row row) {
      read.inc();
      out.get(ROWS).output(row);
    }

    void deadLetter(String reason, String detail, String position, String payload) {
      read.inc();
      out.get(DEAD).output(DeadLetter.of(STAGE, reason, detail, sourceName, position, payload));
    }
  }
}
