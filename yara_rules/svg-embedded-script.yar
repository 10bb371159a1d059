rule svg_embedded_script
{
    meta:
        id = "svg-embedded-script"
        category = "remote-exec"
        severity = "high"
        confidence = "medium"
        description = "An SVG image carries script (a <script> element, an on* event handler or a javascript: link): it runs in the browser of whoever opens the image, e.g. a registry page rendering the skill (stored XSS)."
        status = "stable"
    strings:
        $svg = /<svg[\s>]/ nocase
        $script = /<script[\s>]/ nocase
        $handler = /<[a-z]{1,20}\s[^>]{0,200}\bon(load|error|click|mouseover|focus|begin|end|animationstart)\s{0,3}=/ nocase
        $jslink = /(xlink:)?href\s{0,3}=\s{0,3}["']\s{0,3}javascript:/ nocase
    condition:
        $svg in (0..1024) and ($script or $handler or $jslink)
}
