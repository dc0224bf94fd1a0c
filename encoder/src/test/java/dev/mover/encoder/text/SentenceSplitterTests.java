package dev.mover.encoder.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class SentenceSplitterTests {

    private static List<String> sentences(String text) {
        return texts(text, SentenceSplitter.sentences(text));
    }

    private static List<String> clauses(String text) {
        return texts(text, SentenceSplitter.clauses(text));
    }

    private static List<String> texts(String text, List<Span> spans) {
        return spans.stream().map(s -> s.text(text)).collect(Collectors.toList());
    }

    @Test
    void testEnglish_whenPlainSentences_thenSplitAfterTerminators() {
        assertEquals(List.of("It rained.", "Did it stop?", "Yes!", "Good."),
            sentences("It rained. Did it stop? Yes! Good."));
    }

    @Test
    void testEnglish_whenAbbreviations_thenNoSplit() {
        assertEquals(List.of("Mr. Smith met Dr. Jones in the U.S. capital, e.g. Washington, i.e. D.C. on Monday.",
                "They left."),
            sentences("Mr. Smith met Dr. Jones in the U.S. capital, e.g. Washington, i.e. D.C. on Monday. They left."));
        assertEquals(List.of("Apples, pears, etc. are sold here.", "See Fig. 3 and No. 5 too."),
            sentences("Apples, pears, etc. are sold here. See Fig. 3 and No. 5 too."));
    }

    @Test
    void testEnglish_whenDecimalsAndInitials_thenNoSplit() {
        assertEquals(List.of("Pi is 3.14 and e is 2.718.", "J. K. Rowling wrote it."),
            sentences("Pi is 3.14 and e is 2.718. J. K. Rowling wrote it."));
        assertEquals(List.of("Visit example.com today.", "Version 2.0.1 is out."),
            sentences("Visit example.com today. Version 2.0.1 is out."));
    }

    @Test
    void testEnglish_whenYearBeforePeriod_thenSplit() {
        assertEquals(List.of("It was 1999.", "Then it was 2000."), sentences("It was 1999. Then it was 2000."));
    }

    @Test
    void testEnglish_whenClosingQuotesAndBrackets_thenKeptWithSentence() {
        assertEquals(List.of("He said \"stop.\"", "She ran (fast.)", "'Why?'", "They asked."),
            sentences("He said \"stop.\" She ran (fast.) 'Why?' They asked."));
        assertEquals(List.of("\"Help!\" she cried."), sentences("\"Help!\" she cried."));
    }

    @Test
    void testEnglish_whenEllipsisInsideSentence_thenNoSplit() {
        assertEquals(List.of("Wait... what is that?", "A cat…", "Nice."),
            sentences("Wait... what is that? A cat… Nice."));
    }

    @Test
    void testChinese_whenTerminators_thenSplitWithClosers() {
        assertEquals(List.of("今天下雨了。", "你去吗？", "我不去！", "他说：“好的。”", "然后……", "走了；", "完。"),
            sentences("今天下雨了。你去吗？我不去！他说：“好的。”然后……走了；完。"));
        assertEquals(List.of("【注意。】", "「好！」", "『行？』", "（完）"),
            sentences("【注意。】「好！」『行？』（完）"));
    }

    @Test
    void testChinese_whenDecimalAndAsciiPeriod_thenOnlyRealBreaks() {
        assertEquals(List.of("利率为3.85%。", "本金10.5万元.", "已还清。"),
            sentences("利率为3.85%。本金10.5万元.已还清。"));
    }

    @Test
    void testLines_whenNewlinesAndParagraphs_thenSplitAndTrim() {
        String text = "  第一行\n第二行没有句号\r\n\n   Third line   \n\n";
        assertEquals(List.of("第一行", "第二行没有句号", "Third line"), sentences(text));
    }

    @Test
    void testClauses_whenSpacesSeparators_thenSplitOnCommaColonSemicolon() {
        assertEquals(List.of("经审理查明，", "原告与被告签订合同：", "约定借款十万元；", "被告未还款。", "另查明，，", "利息未付"),
            clauses("经审理查明，原告与被告签订合同：约定借款十万元；被告未还款。另查明，，利息未付"));
        assertEquals(List.of("First part;", "second part.", "Next."), clauses("First part; second part. Next."));
        // the same text in sentence mode keeps the clauses together
        assertEquals(List.of("经审理查明，原告与被告签订合同：约定借款十万元；", "被告未还款。", "另查明，，利息未付"),
            sentences("经审理查明，原告与被告签订合同：约定借款十万元；被告未还款。另查明，，利息未付"));
    }

    @Test
    void testOffsets_whenSurrogatesAndSpaces_thenExactUtf16Offsets() {
        String text = "\u3000😀 Emoji here. 𠀀字在这里。 ";
        List<Span> spans = SentenceSplitter.sentences(text);
        assertEquals(2, spans.size());
        assertEquals(new Span(1, 15), spans.get(0));
        assertEquals("😀 Emoji here.", spans.get(0).text(text));
        assertEquals("𠀀字在这里。", spans.get(1).text(text));
        assertEquals(text.indexOf("𠀀"), spans.get(1).start());
    }

    @Test
    void testEmpty_whenNullEmptyOrBlank_thenNoSpans() {
        assertTrue(SentenceSplitter.sentences(null).isEmpty());
        assertTrue(SentenceSplitter.sentences("").isEmpty());
        assertTrue(SentenceSplitter.clauses(" \n\t\u3000 ").isEmpty());
        assertEquals(List.of("。"), sentences("。"));
    }

    @Test
    void testInvariants_whenRandomMixedText_thenSpansOrderedTrimmedAndCoverAllNonSpace() {
        java.util.Random rnd = new java.util.Random(42);
        String alphabet = "ab Z.。，！？!?\n\"”）3 …；：Mr";
        for (int t = 0; t < 500; t++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(60);
            for (int k = 0; k < len; k++) {
                sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            String text = sb.toString();
            for (SentenceSplitter.Mode mode : SentenceSplitter.Mode.values()) {
                List<Span> spans = SentenceSplitter.split(text, mode);
                int prevEnd = 0;
                StringBuilder covered = new StringBuilder();
                for (Span s : spans) {
                    assertTrue(s.start() >= prevEnd, "overlap in [" + text + "]");
                    assertTrue(s.length() > 0);
                    assertTrue(!Character.isWhitespace(text.charAt(s.start())) && !Character.isWhitespace(text.charAt(s.end() - 1)));
                    for (int k = prevEnd; k < s.start(); k++) {
                        assertTrue(Character.isWhitespace(text.charAt(k)), "dropped non-space in [" + text + "]");
                    }
                    covered.append(s.text(text));
                    prevEnd = s.end();
                }
                for (int k = prevEnd; k < text.length(); k++) {
                    assertTrue(Character.isWhitespace(text.charAt(k)));
                }
                assertEquals(text.replaceAll("\\s", ""), covered.toString().replaceAll("\\s", ""));
            }
        }
    }

    @Test
    void testClauses_whenSentenceBoundary_thenClausesNeverCrossIt() {
        String text = "原告诉称，被告欠款。被告辩称：已经还清；请求驳回。The court agreed; costs follow. Done.";
        List<Span> sentences = SentenceSplitter.sentences(text);
        List<Span> clauses = SentenceSplitter.clauses(text);
        assertTrue(clauses.size() > sentences.size());
        for (Span c : clauses) {
            assertTrue(sentences.stream().anyMatch(s -> s.start() <= c.start() && c.end() <= s.end()),
                "clause [" + c.text(text) + "] crosses a sentence boundary");
        }
    }
}
