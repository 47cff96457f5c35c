"""chart_image.py NAME < image.ppm: fails (exit 1) when a screenshot is
empty or all white: fewer than 0.5% of its pixels differ from white, or
fewer than 3 distinct colours.  Reads binary PPM (P6) from stdin."""
import sys

def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "image"
    data = sys.stdin.buffer.read()
    fields, i = [], 0
    while len(fields) < 4:
        while data[i:i+1].isspace():
            i += 1
        if data[i:i+1] == b"#":
            while data[i:i+1] not in (b"\n", b""):
                i += 1
            continue
        j = i
        while not data[j:j+1].isspace():
            j += 1
        fields.append(data[i:j])
        i = j
    i += 1
    if fields[0] != b"P6":
        print("chart.sh: %s: the screenshot is not a PPM image" % name)
        return 1
    w, h = int(fields[1]), int(fields[2])
    px = data[i:i + 3*w*h]
    if w == 0 or h == 0 or len(px) < 3*w*h:
        print("chart.sh: %s: the screenshot is empty" % name)
        return 1
    n = w*h
    white = 0
    colours = set()
    for k in range(0, 3*n, 3*7):          # every 7th pixel
        p = px[k:k+3]
        if p == b"\xff\xff\xff":
            white += 1
        if len(colours) < 64:
            colours.add(p)
    seen = len(range(0, 3*n, 3*7))
    inked = 1.0 - white/seen
    print("chart.sh: %s: %dx%d, %.1f%% of pixels not white, %s colours"
          % (name, w, h, 100*inked, len(colours) if len(colours) < 64 else "64+"))
    if inked < 0.005 or len(colours) < 3:
        print("chart.sh: %s: the screenshot is empty or all white" % name)
        return 1
    return 0

sys.exit(main())
