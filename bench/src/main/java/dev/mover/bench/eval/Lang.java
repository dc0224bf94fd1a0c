package dev.mover.bench.eval;

/** Language of a data file, decided from its text: Chinese when at least 30% of the letters are CJK ideographs. */
enum Lang {
    EN("all-minilm-l6-v2"),
    ZH("bge-small-zh-v15");

    /** The default model of the language (directory name under the models directory). */
    final String model;

    Lang(String model) {
        this.model = model;
    }

    /** Detects the language of a sample of texts. */
    static Lang detect(Iterable<String> texts) {
        long letters = 0;
        long cjk = 0;
        for (String t : texts) {
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                if (Character.isLetter(c)) {
                    letters++;
                    if (Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN) {
                        cjk++;
                    }
                }
            }
        }
        return letters > 0 && cjk * 10 >= letters * 3 ? ZH : EN;
    }
}
