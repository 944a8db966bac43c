"""The function set is Flux's: Go's built-ins plus Sprig v3.3's ``HermeticTxtFuncMap``.

Sprig's hermetic map drops the functions that read the clock, the environment or the
network; it still holds some that draw random numbers or read the clock inside
(``randInt``, ``shuffle``, ``ago``, key and certificate generation, ``bcrypt``...).  A
commit message must be the same for the same change, so those are left out too; the
README lists them.  Every function offered has a table test in this directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from tagpilot.core.message.builtins import BUILTINS
from tagpilot.core.message.functions import FUNCTIONS, SPRIG_FUNCTIONS

SPRIG_V3_3 = frozenset(
    """
    hello ago date date_in_zone date_modify dateInZone dateModify duration durationRound
    htmlDate htmlDateInZone must_date_modify mustDateModify mustToDate now toDate unixEpoch
    abbrev abbrevboth trunc trim upper lower title untitle substr repeat trimall trimAll
    trimSuffix trimPrefix nospace initials randAlphaNum randAlpha randAscii randNumeric
    swapcase shuffle snakecase camelcase kebabcase wrap wrapWith contains hasPrefix
    hasSuffix quote squote cat indent nindent replace plural sha1sum sha256sum sha512sum
    adler32sum toString atoi int64 int float64 seq toDecimal split splitList splitn
    toStrings until untilStep add1 add sub div mod mul randInt add1f addf subf divf mulf
    biggest max min maxf minf ceil floor round join sortAlpha default empty coalesce all
    any compact mustCompact fromJson toJson toPrettyJson toRawJson mustFromJson mustToJson
    mustToPrettyJson mustToRawJson ternary deepCopy mustDeepCopy typeOf typeIs typeIsLike
    kindOf kindIs deepEqual env expandenv getHostByName base dir clean ext isAbs osBase
    osClean osDir osExt osIsAbs b64enc b64dec b32enc b32dec tuple list dict get set unset
    hasKey pluck keys pick omit merge mergeOverwrite mustMerge mustMergeOverwrite values
    append push mustAppend mustPush prepend mustPrepend first mustFirst rest mustRest last
    mustLast initial mustInitial reverse mustReverse uniq mustUniq without mustWithout has
    mustHas slice mustSlice concat dig chunk mustChunk bcrypt htpasswd genPrivateKey
    derivePassword buildCustomCert genCA genCAWithKey genSelfSignedCert
    genSelfSignedCertWithKey genSignedCert genSignedCertWithKey encryptAES decryptAES
    randBytes uuidv4 semver semverCompare fail regexMatch mustRegexMatch regexFindAll
    mustRegexFindAll regexFind mustRegexFind regexReplaceAll mustRegexReplaceAll
    regexReplaceAllLiteral mustRegexReplaceAllLiteral regexSplit mustRegexSplit
    regexQuoteMeta urlParse urlJoin
    """.split()
)
NON_HERMETIC = frozenset(
    """
    date date_in_zone date_modify now htmlDate htmlDateInZone dateInZone dateModify
    randAlphaNum randAlpha randAscii randNumeric randBytes uuidv4 env expandenv getHostByName
    """.split()
)
NOT_REPEATABLE = frozenset(
    """
    ago randInt shuffle bcrypt htpasswd genPrivateKey genCA genCAWithKey genSelfSignedCert
    genSelfSignedCertWithKey genSignedCert genSignedCertWithKey encryptAES
    """.split()
)
GO_BUILTINS = frozenset(
    "and or not len index print println printf html js urlquery eq ne lt le gt ge".split()
)


def test_every_repeatable_hermetic_function_is_defined() -> None:
    expected = SPRIG_V3_3 - NON_HERMETIC - NOT_REPEATABLE
    assert sorted(expected - set(SPRIG_FUNCTIONS)) == []
    assert len(expected) == 181


def test_no_function_beyond_flux_is_defined() -> None:
    assert sorted(set(SPRIG_FUNCTIONS) - SPRIG_V3_3) == []
    assert set(BUILTINS) == GO_BUILTINS
    assert set(FUNCTIONS) == GO_BUILTINS | set(SPRIG_FUNCTIONS)


def test_clock_environment_network_and_random_functions_are_left_out() -> None:
    assert sorted((NON_HERMETIC | NOT_REPEATABLE) & set(FUNCTIONS)) == []


def test_every_function_has_a_table_test() -> None:
    sources = "\n".join(path.read_text() for path in Path(__file__).parent.glob("test_*.py"))
    untested = [
        name
        for name in sorted(FUNCTIONS)
        if not re.search(rf"(\{{\{{-?|\(|\||:?=)\s*{re.escape(name)}\b", sources)
    ]
    assert untested == []
