package dev.watershed.io.jdbc;

import java.util.Arrays;

/**
 * A growable byte buffer for PostgreSQL's binary COPY format: big-endian integers and
 * length-prefixed UTF-8 text, written without a stream per value.
 */
final class CopyBuffer {
  private byte[] bytes;
  private int size;

  CopyBuffer(int capacity) {
    bytes = new byte[capacity];
  }

  byte[] array() {
    return bytes;
  }

  int size() {
    return size;
  }

  void clear() {
    size = 0;
  }

  private void ensure(int more) {
    if (size + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }
  }

  CopyBuffer put(byte value) {
    ensure(1);
    bytes[size++] = value;
    return this;
  }

  CopyBuffer put(byte[] values) {
    ensure(values.length);
    System.arraycopy(values, 0, bytes, size, values.length);
    size += values.length;
    return this;
  }

  CopyBuffer putShort(int value) {
    ensure(2);
    bytes[size++] = (byte) (value >>> 8);
    bytes[size++] = (byte) value;
    return this;
  }

  CopyBuffer putInt(int value) {
    ensure(4);
    bytes[size++] = (byte) (value >>> 24);
    bytes[size++] = (byte) (value >>> 16);
    bytes[size++] = (byte) (value >>> 8);
    bytes[size++] = (byte) value;
    return this;
  }

  CopyBuffer putLong(long value) {
    putInt((int) (value >>> 32));
    return putInt((int) value);
  }

  /**
   * The text's length in UTF-8 bytes as an int, then its UTF-8 bytes. An unpaired surrogate is
   * written as {@code ?}, as {@link String#getBytes} does.
   */
  CopyBuffer putLengthAndUtf8(String text) {
    int length = text.length();
    ensure(4 + length * 3);
    int start = size;
    size += 4;
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes[size++] = (byte) c;
      } else if (c < 0x800) {
        bytes[size++] = (byte) (0xC0 | (c >> 6));
        bytes[size++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isSurrogate(c)) {
        int codePoint = -1;
        if (Character.isHighSurrogate(c) && i + 1 < length) {
          char low = text.charAt(i + 1);
          if (Character.isLowSurrogate(low)) {
            codePoint = Character.toCodePoint(c, low);
            i++;
          }
        }
        if (codePoint < 0) {
          bytes[size++] = '?';
        } else {
          bytes[size++] = (byte) (0xF0 | (codePoint >> 18));
          bytes[size++] = (byte) (0x80 | ((codePoint >> 12) & 0x3F));
          bytes[size++] = (byte) (0x80 | ((codePoint >> 6) & 0x3F));
          bytes[size++] = (byte) (0x80 | (codePoint & 0x3F));
        }
      } else {
        bytes[size++] = (byte) (0xE0 | (c >> 12));
        bytes[size++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        bytes[size++] = (byte) (0x80 | (c & 0x3F));
      }
    }
    int written = size - start - 4;
    bytes[start] = (byte) (written >>> 24);
    bytes[start + 1] = (byte) (written >>> 16);
    bytes[start + 2] = (byte) (written >>> 8);
    bytes[start + 3] = (byte) written;
    return this;
  }
}
