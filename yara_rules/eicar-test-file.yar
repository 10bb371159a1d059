rule eicar_test_file
{
    meta:
        id = "eicar-test-file"
        category = "reputation"
        severity = "high"
        confidence = "high"
        description = "Carries the EICAR anti-malware test string: harmless by itself, but every antivirus engine reports it as malware, so installing the skill trips endpoint protection; no legitimate agent skill needs it."
        status = "stable"
    strings:
        // the 68-byte standard string; engines match it anywhere, not only as a whole file
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        $eicar
}
