package dev.mover.encoder;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EncoderConfigTests {

    @Test
    void testDefaults_whenBuilt_thenDocumentedValues() {
        EncoderConfig c = EncoderConfig.defaults();
        assertEquals(1, c.intraOpThreads());
        assertEquals(4096, c.maxTokens());
        assertEquals(EncoderConfig.LongText.WINDOWS, c.longText());
        assertEquals(128, c.windowOverlap());
        assertEquals(false, c.keepSpecialTokens());
        assertEquals(EncoderConfig.Overflow.TRUNCATE, c.onOverflow());
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
    }

    @Test
    void testBuilder_whenOutOfRange_thenNamedError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.builder().intraOpThreads(0));
        assertEquals("[mover] intra_op_threads must be in [1, 64] but was [0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.builder().maxTokens(20000));
        assertEquals("[mover] max_tokens must be in [1, 16384] but was [20000]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.builder().windowOverlap(256));
        assertEquals("[mover] window_overlap must be in [0, 255] but was [256]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.builder().batchSize(0));
        assertEquals("[mover] batch_size must be in [1, 1024] but was [0]", e.getMessage());
    }

    @Test
    void testParse_whenKnownOrUnknown_thenValueOrNamedError() {
        assertEquals(EncoderConfig.LongText.HIERARCHICAL, EncoderConfig.LongText.parse("hierarchical"));
        assertEquals(EncoderConfig.Overflow.ERROR, EncoderConfig.Overflow.parse("error"));
        assertEquals("windows", EncoderConfig.LongText.WINDOWS.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.LongText.parse("chunks"));
        assertEquals("[mover] long_text must be one of [truncate, windows, hierarchical] but was [chunks]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.Overflow.parse("drop"));
        assertEquals("[mover] on_overflow must be one of [truncate, error] but was [drop]", e.getMessage());
    }
}
