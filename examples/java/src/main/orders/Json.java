package orders;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON (RFC 8259) reader and writer. Input is bounded before parsing: at most {@link #MAX_BYTES}
 * bytes of valid UTF-8, nesting at most {@link #MAX_DEPTH} deep (the recursion is bounded by that depth).
 * Values: {@code Map<String,Object>} (insertion order kept, duplicate names refused), {@code List<Object>},
 * {@code String}, {@code BigDecimal}, {@code Boolean}, and {@code null} for JSON null.
 */
public final class Json {
    public static final int MAX_BYTES = 1 << 20;
    public static final int MAX_DEPTH = 64;

    public static final class ParseException extends Exception {
        ParseException(String message) { super(message); }
    }

    private final String s;
    private int i;

    private Json(String s) { this.s = s; }

    public static Object parse(byte[] body) throws ParseException {
        if (body.length > MAX_BYTES) throw new ParseException("body of " + body.length + " bytes exceeds " + MAX_BYTES);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new ParseException("not UTF-8");
        }
        return parse(text);
    }

    public static Object parse(String text) throws ParseException {
        if (text.length() > MAX_BYTES) throw new ParseException("text exceeds " + MAX_BYTES + " characters");
        Json p = new Json(text);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.i != text.length()) throw p.error("trailing content");
        return v;
    }

    private ParseException error(String what) { return new ParseException(what + " at offset " + i); }

    private void ws() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            i++;
        }
    }

    private Object value(int depth) throws ParseException {
        if (i >= s.length()) throw error("unexpected end");
        char c = s.charAt(i);
        switch (c) {
            case '{': return object(depth + 1);
            case '[': return array(depth + 1);
            case '"': return string();
            case 't': literal("true"); return Boolean.TRUE;
            case 'f': literal("false"); return Boolean.FALSE;
            case 'n': literal("null"); return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error("unexpected character");
        }
    }

    private void literal(String word) throws ParseException {
        if (!s.startsWith(word, i)) throw error("bad literal");
        i += word.length();
    }

    private Map<String, Object> object(int depth) throws ParseException {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        i++; // {
        Map<String, Object> m = new LinkedHashMap<>();
        ws();
        if (i < s.length() && s.charAt(i) == '}') { i++; return m; }
        while (true) {
            ws();
            if (i >= s.length() || s.charAt(i) != '"') throw error("expected a member name");
            String name = string();
            ws();
            if (i >= s.length() || s.charAt(i) != ':') throw error("expected ':'");
            i++;
            ws();
            Object v = value(depth);
            if (m.containsKey(name)) throw error("duplicate member \"" + name + "\"");
            m.put(name, v);
            ws();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i++);
            if (c == '}') return m;
            if (c != ',') throw error("expected ',' or '}'");
        }
    }

    private List<Object> array(int depth) throws ParseException {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        i++; // [
        List<Object> a = new ArrayList<>();
        ws();
        if (i < s.length() && s.charAt(i) == ']') { i++; return a; }
        while (true) {
            ws();
            a.add(value(depth));
            ws();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i++);
            if (c == ']') return a;
            if (c != ',') throw error("expected ',' or ']'");
        }
    }

    private String string() throws ParseException {
        i++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) throw error("unterminated string");
            char c = s.charAt(i++);
            if (c == '"') return b.toString();
            if (c < 0x20) throw error("control character in string");
            if (c != '\\') { b.append(c); continue; }
            if (i >= s.length()) throw error("unterminated escape");
            char e = s.charAt(i++);
            switch (e) {
                case '"': b.append('"'); break;
                case '\\': b.append('\\'); break;
                case '/': b.append('/'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'u': b.append(unicodeEscape()); break;
                default: throw error("bad escape");
            }
        }
    }

    /** A {@code \\uXXXX} escape; a surrogate must come as a complete pair. */
    private String unicodeEscape() throws ParseException {
        char hi = hex4();
        if (Character.isLowSurrogate(hi)) throw error("lone low surrogate");
        if (!Character.isHighSurrogate(hi)) return String.valueOf(hi);
        if (!s.startsWith("\\u", i)) throw error("lone high surrogate");
        i += 2;
        char lo = hex4();
        if (!Character.isLowSurrogate(lo)) throw error("lone high surrogate");
        return new String(new char[] {hi, lo});
    }

    private char hex4() throws ParseException {
        if (i + 4 > s.length()) throw error("short \\u escape");
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int d = Character.digit(s.charAt(i++), 16);
            if (d < 0) throw error("bad hex digit");
            v = v * 16 + d;
        }
        return (char) v;
    }

    private BigDecimal number() throws ParseException {
        int start = i;
        if (s.charAt(i) == '-') i++;
        if (i < s.length() && s.charAt(i) == '0') i++;
        else if (!digits()) throw error("bad number");
        if (i < s.length() && s.charAt(i) == '.') { i++; if (!digits()) throw error("bad fraction"); }
        if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
            if (!digits()) throw error("bad exponent");
        }
        try {
            return new BigDecimal(s.substring(start, i));
        } catch (NumberFormatException | ArithmeticException e) {
            throw error("number out of range");
        }
    }

    private boolean digits() {
        int start = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') i++;
        return i > start;
    }

    // ---- writing ----

    /** Writes a value built from Map, List, String, Number, Boolean and null (depth bounded as when reading). */
    public static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, 0);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, int depth) {
        if (depth > MAX_DEPTH) throw new IllegalArgumentException("nesting deeper than " + MAX_DEPTH);
        if (v == null) b.append("null");
        else if (v instanceof String) quote(b, (String) v);
        else if (v instanceof Boolean) b.append(v);
        else if (v instanceof BigDecimal) b.append(((BigDecimal) v).toString());
        else if (v instanceof Integer || v instanceof Long) b.append(v);
        else if (v instanceof Map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) b.append(',');
                first = false;
                quote(b, (String) e.getKey());
                b.append(':');
                write(b, e.getValue(), depth + 1);
            }
            b.append('}');
        } else if (v instanceof List) {
            b.append('[');
            boolean first = true;
            for (Object o : (List<?>) v) {
                if (!first) b.append(',');
                first = false;
                write(b, o, depth + 1);
            }
            b.append(']');
        } else throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    boolean escape = c < 0x20 || Character.isSurrogate(c) && !validPairAt(s, k);
                    b.append(escape ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        b.append('"');
    }

    private static boolean validPairAt(String s, int k) {
        char c = s.charAt(k);
        if (Character.isHighSurrogate(c)) return k + 1 < s.length() && Character.isLowSurrogate(s.charAt(k + 1));
        return k > 0 && Character.isHighSurrogate(s.charAt(k - 1));
    }

    // ---- reading helpers ----

    /** The value as an object, or null when it is not one. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(Object v) {
        return v instanceof Map ? (Map<String, Object>) v : null;
    }

    /** The value as an array, or null when it is not one. */
    @SuppressWarnings("unchecked")
    public static List<Object> array(Object v) {
        return v instanceof List ? (List<Object>) v : null;
    }

    /** The member as a string, or null when absent, null or not a string. */
    public static String string(Map<String, Object> m, String name) {
        Object v = m == null ? null : m.get(name);
        return v instanceof String ? (String) v : null;
    }

    /** A small builder for objects: {@code Json.obj("a", 1, "b", "x")}. */
    public static Map<String, Object> obj(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < pairs.length; k += 2) m.put((String) pairs[k], pairs[k + 1]);
        return m;
    }
}
