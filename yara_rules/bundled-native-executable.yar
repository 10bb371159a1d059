rule bundled_native_executable
{
    meta:
        id = "bundled-native-executable"
        category = "supply-chain"
        severity = "high"
        confidence = "high"
        description = "A compiled Windows (PE), Linux (ELF) or macOS (Mach-O) executable shipped inside the skill: code nobody can review from the listing, the carrier of trojanised helper tools."
        status = "stable"
    condition:
        filesize > 64 and (
            (uint16(0) == 0x5A4D and uint32(0x3C) < filesize - 4 and uint32(uint32(0x3C)) == 0x00004550) or
            uint32(0) == 0x464C457F or
            uint32(0) == 0xFEEDFACE or uint32(0) == 0xFEEDFACF or
            uint32(0) == 0xCEFAEDFE or uint32(0) == 0xCFFAEDFE or
            // universal binary; Java class files share the magic but carry a version >= 45 here
            (uint32be(0) == 0xCAFEBABE and uint32be(4) > 0 and uint32be(4) < 20)
        )
}
