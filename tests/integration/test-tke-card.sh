#!/usr/bin/env bash
# tke-card offline provisioning: a CA card, 2 administrator cards and 3 key
# part cards in its zone; copy within the zone and refused across zones;
# change PIN; block and unblock with the zone's CA card.  TAP output.
set -u

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
export TKE_CARD_CHIP_KEY="$dir/chip.key"
card=${TKE_CARD:?run from meson test}
n=0
failed=0

ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
# check DESCRIPTION PINS COMMAND…: expects success
check () {
  local what=$1 pins=$2; shift 2
  printf '%b' "$pins" > pins
  if out=$("$card" --pin-file pins "$@" 2>&1); then ok "$what"; else not_ok "$what"; echo "# $out"; fi
}
# refuse DESCRIPTION PINS PATTERN COMMAND…: expects failure with PATTERN in the message
refuse () {
  local what=$1 pins=$2 pattern=$3; shift 3
  printf '%b' "$pins" > pins
  if out=$("$card" --pin-file pins "$@" 2>&1); then not_ok "$what (succeeded)"
  elif grep -q -- "$pattern" <<< "$out"; then ok "$what"
  else not_ok "$what"; echo "# $out"; fi
}

check "create CA card" '111111\n222222\n' create-ca --zone-description "Zone A" --description "CA A" ca.card
check "create admin card 1" '111111\n222222\n100001\n' create --zone ca.card --description "Admin 1" admin1.card
check "create admin card 2" '111111\n222222\n100002\n' create --zone ca.card --description "Admin 2" admin2.card
for i in 1 2 3; do
  check "create key part card $i" "111111\n222222\n20000$i\n" create --zone ca.card --description "Parts $i" parts$i.card
done
check "admin 1 signature key" '100001\n' gen-sigkey admin1.card
check "admin 2 signature key" '100002\n' gen-sigkey admin2.card
refuse "second signature key needs --replace" '100001\n' "not in a state" gen-sigkey admin1.card
for i in 1 2 3; do
  check "key part on card $i" "20000$i\n" gen-keypart --description "MK part $i" parts$i.card
done
check "second part on card 1" '200001\n' gen-keypart --description "MK part 1b" parts1.card

# The unit root: set at creation from the emulator's PEM (or hex), shown by info.
openssl ecparam -name secp521r1 -genkey -noout -out root-key.pem 2> /dev/null
openssl ec -in root-key.pem -pubout -out unit-root.pem 2> /dev/null
fingerprint=$(openssl ec -pubin -in unit-root.pem -outform DER 2> /dev/null | tail -c 133 | sha256sum | cut -c1-64)
check "create a card with --unit-root" '111111\n222222\n300001\n' create --zone ca.card --description "Rooted" --unit-root unit-root.pem rooted.card
if "$card" info rooted.card | grep -q "Unit root:        $fingerprint"; then ok "info shows the unit root"; else not_ok "info shows the unit root"; fi
if "$card" info parts1.card | grep -q "Unit root:        none"; then ok "info: a card without a unit root"; else not_ok "info: a card without a unit root"; fi
echo "not a key" > bad-root.pem
refuse "--unit-root that is not a key" '111111\n222222\n300002\n' "holds no unit root" create --zone ca.card --description "Bad" --unit-root bad-root.pem bad.card
if [ -e bad.card ]; then not_ok "no image for a refused unit root"; else ok "no image for a refused unit root"; fi

# A blank card has no key parts to list: info shows it all the same.
check "create a blank card" '' create-blank blank.card
if out=$("$card" info blank.card 2>&1) && grep -q "Type:             blank" <<< "$out"; then ok "info on a blank card"; else not_ok "info on a blank card"; echo "# $out"; fi

if "$card" info admin1.card | grep -q "Signature key SKI: [0-9a-f]\{64\}"; then ok "info shows the SKI"; else not_ok "info shows the SKI"; fi
if [ "$("$card" list parts1.card | grep -c '  [0-9a-f]\{64\}$')" = 2 ]; then ok "list shows 2 parts"; else not_ok "list shows 2 parts"; fi
if grep -q "MK part\|100001" *.card; then not_ok "no secret or description in clear in images"; else ok "no secret or description in clear in images"; fi
if [ "$(stat -c %a admin1.card)" = 600 ]; then ok "image mode 0600"; else not_ok "image mode 0600"; fi

refuse "a PIN has 6 digits" '111111\n222222\n12345\n' "6 digits" create --zone ca.card --description "Bad" bad.card
refuse "wrong CA PIN refused" '111112\n' "Wrong PIN" create --zone ca.card --description "X" x.card

# copy within the zone: parts 3 gets card 1's two parts?  Index 1 is taken on
# card 3, so copy to a fresh card.
check "create key part card 4" '111111\n222222\n200004\n' create --zone ca.card --description "Parts 4" parts4.card
check "copy card 1 to card 4" '200001\n200004\n' copy parts1.card parts4.card
if diff <("$card" list parts1.card | tail -n +2) <("$card" list parts4.card | tail -n +2) >/dev/null; then
  ok "copied parts have the same check values"; else not_ok "copied parts have the same check values"; fi
refuse "copy onto an existing index refused" '200001\n200003\n' "not in a state" copy --item 1 parts1.card parts3.card
check "copy signature key within the zone" '100001\n200004\n' copy --item 0 admin1.card parts4.card

check "create CA card of zone B" '333333\n444444\n' create-ca --zone-description "Zone B" --description "CA B" cab.card
check "create card in zone B" '333333\n444444\n300001\n' create --zone cab.card --description "B 1" b1.card
refuse "copy across zones refused" '200001\n300001\n' "different zones" copy parts1.card b1.card

check "change PIN" '100002\n100022\n' change-pin admin2.card
check "new PIN works" '100022\n' gen-keypart --description "after change" admin2.card

refuse "wrong PIN 1" '999999\n' "2 tries left" gen-keypart --description x parts2.card
refuse "wrong PIN 2" '999999\n' "1 tries left" gen-keypart --description x parts2.card
refuse "wrong PIN 3 blocks" '999999\n' "blocked" gen-keypart --description x parts2.card
refuse "blocked card refuses the right PIN" '200002\n' "blocked" gen-keypart --description x parts2.card
refuse "unblock with another zone's CA refused" '333333\n444444\n' "different zones" unblock --ca cab.card parts2.card
check "unblock with the zone's CA card" '111111\n222222\n200222\n' unblock --ca ca.card parts2.card
check "unblocked card takes its new PIN" '200222\n' gen-keypart --description "after unblock" parts2.card

cp admin1.card tampered.card
# Change the first character of the sealed chip data, whatever it is.
sed -i 's/^Chip=0/Chip=@/;s/^Chip=[^@]/Chip=0/;s/^Chip=@/Chip=1/' tampered.card
cmp -s admin1.card tampered.card && echo "Bail out! the image was not tampered with" && exit 1
refuse "tampered image refused" '' "cannot be read" info tampered.card

echo "1..$n"
exit $failed
