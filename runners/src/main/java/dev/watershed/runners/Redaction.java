package dev.watershed.runners;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * Keeps secrets out of everything the command line prints: standard output, standard error and
 * therefore logs. Installed before anything else runs; secrets are added as the spec is read.
 */
final class Redaction {
  static final String MASK = "*****";
  private static final Set<String> SECRETS = new CopyOnWriteArraySet<>();

  private Redaction() {}

  static void install() {
    System.setOut(new RedactingStream(System.out));
    System.setErr(new RedactingStream(System.err));
  }

  static void add(Set<String> secrets) {
    for (String secret : secrets) {
      // Very short values would mask ordinary text; they are also too weak to be real secrets.
      if (secret.length() >= 4) {
        SECRETS.add(secret);
      }
    }
  }

  static String redact(String text) {
    String out = text;
    for (String secret : SECRETS) {
      out = out.replace(secret, MASK);
    }
    return out;
  }

  /** A print stream that redacts whole lines before passing them on. */
  private static final class RedactingStream extends PrintStream {
    private final PrintStream target;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    RedactingStream(PrintStream target) {
      super(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
      this.target = target;
    }

    @Override
    public synchronized void write(int b) {
      line.write(b);
      if (b == '\n') {
        emit();
      }
    }

    @Override
    public synchronized void write(byte[] buf, int off, int len) {
      // A newline byte never occurs inside a multi-byte UTF-8 character, so lines split cleanly.
      for (int i = off; i < off + len; i++) {
        write(buf[i]);
      }
    }

    private void emit() {
      target.print(redact(line.toString(StandardCharsets.UTF_8)));
      line.reset();
    }

    @Override
    public synchronized void flush() {
      if (line.size() > 0) {
        emit();
      }
      target.flush();
    }

    @Override
    public void print(String s) {
      byte[] bytes = String.valueOf(s).getBytes(StandardCharsets.UTF_8);
      write(bytes, 0, bytes.length);
    }

    @Override
    public void println(String s) {
      print(s + System.lineSeparator());
      flush();
    }

    @Override
    public void println(Object o) {
      println(String.valueOf(o));
    }

    @Override
    public void println() {
      print(System.lineSeparator());
      flush();
    }
  }
}
