#!/bin/sh
# An append-only git server: install as hooks/pre-receive of the bare repository that receives
# shadowgit's pushes (chmod +x). It refuses, on every ref (branches, tags, notes, any namespace):
#   - deleting a ref;
#   - moving a tag that exists (tags never change);
#   - any other update that is not a fast-forward (the new commit must descend from the old).
# git's receive.denyDeletes and receive.denyNonFastForwards guard only refs/heads/*.
# The objects of the push are quarantined while this runs, and git merge-base can read them.
status=0
while read -r old new ref; do
  case "$new" in
    *[!0]*) ;;
    *) echo "append-only: refusing to delete $ref" >&2; status=1; continue ;;
  esac
  case "$old" in
    *[!0]*) ;;
    *) continue ;; # a new ref
  esac
  [ "$old" = "$new" ] && continue
  case "$ref" in
    refs/tags/*) echo "append-only: refusing to move the existing tag $ref" >&2; status=1; continue ;;
  esac
  if ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
    echo "append-only: refusing a non-fast-forward update of $ref" >&2
    status=1
  fi
done
exit $status
