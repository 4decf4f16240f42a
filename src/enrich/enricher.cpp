#include "enrich/enricher.h"

#include <cstring>

namespace flowscope::enrich {

void Enricher::want_name(const IpAddress& address) {
  std::uint64_t a, b;
  std::memcpy(&a, address.bytes().data(), 8);
  std::memcpy(&b, address.bytes().data() + 8, 8);
  const std::uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
  IpAddress& slot = recent_[(h >> 40) % kRecentSlots];
  if (slot == address) return;
  slot = address;
  sources_.reverse_dns->request(address);
  ++stats_.dns_requests;
}

void Enricher::enrich(SessionBatch& batch) {
  // One snapshot per batch: a reload mid-batch cannot mix two versions in one batch.
  const std::shared_ptr<const GeoDb> geo = sources_.geo ? sources_.geo->snapshot() : nullptr;
  const std::shared_ptr<const IpGroups> groups =
      sources_.groups ? sources_.groups->snapshot() : nullptr;
  const std::shared_ptr<const ServiceTable> services =
      sources_.services ? sources_.services->snapshot() : nullptr;

  const std::shared_ptr<const InterfaceMap> interfaces =
      sources_.interfaces ? sources_.interfaces->snapshot() : nullptr;

  const auto cln = batch.values<FieldId::ClnAddr>();
  const auto srv = batch.values<FieldId::SrvAddr>();
  const auto srv_port = batch.values<FieldId::SrvPort>();
  const auto proto = batch.values<FieldId::Proto>();
  const Column& cln_as_col = batch.column(FieldId::ClnAs);
  const Column& srv_as_col = batch.column(FieldId::SrvAs);

  for (std::size_t row = 0; row < batch.size(); ++row) {
    ++stats_.sessions;
    if (geo) {
      if (const GeoLocation* loc = geo->location(cln[row])) {
        if (!loc->country.empty()) {
          batch.set<FieldId::ClnCountry>(row, loc->country);
          ++stats_.geo_hits;
        }
        if (loc->city != 0) batch.set<FieldId::ClnCity>(row, geo->text(loc->city));
      }
      if (const GeoLocation* loc = geo->location(srv[row])) {
        if (!loc->country.empty()) {
          batch.set<FieldId::SrvCountry>(row, loc->country);
          ++stats_.geo_hits;
        }
        if (loc->city != 0) batch.set<FieldId::SrvCity>(row, geo->text(loc->city));
      }
      // The exporter's BGP view of the AS wins over GeoIP's registry view.
      if (const AsInfo* as = geo->as_info(cln[row])) {
        if (!cln_as_col.valid(row) && as->asn != 0) batch.set<FieldId::ClnAs>(row, as->asn);
        if (as->org != 0) batch.set<FieldId::ClnAsOrg>(row, geo->text(as->org));
        ++stats_.as_hits;
      }
      if (const AsInfo* as = geo->as_info(srv[row])) {
        if (!srv_as_col.valid(row) && as->asn != 0) batch.set<FieldId::SrvAs>(row, as->asn);
        if (as->org != 0) batch.set<FieldId::SrvAsOrg>(row, geo->text(as->org));
        ++stats_.as_hits;
      }
    }
    if (groups) {
      // The group's name, location and activity are stored beside its id, so that `stat -grp
      // group|location|activity`, filters and every backend read them as plain columns
      // (docs/enrich.md "IP groups").
      if (std::uint32_t g = groups->lookup(cln[row]); g != 0) {
        batch.set<FieldId::ClnGroup>(row, g);
        if (const IpGroup* info = groups->group(g)) {
          batch.set<FieldId::ClnGroupName>(row, info->name);
          if (!info->location.empty()) batch.set<FieldId::ClnLocation>(row, info->location);
          if (!info->activity.empty()) batch.set<FieldId::ClnActivity>(row, info->activity);
        }
        ++stats_.group_hits;
      }
      if (std::uint32_t g = groups->lookup(srv[row]); g != 0) {
        batch.set<FieldId::SrvGroup>(row, g);
        if (const IpGroup* info = groups->group(g)) {
          batch.set<FieldId::SrvGroupName>(row, info->name);
          if (!info->location.empty()) batch.set<FieldId::SrvLocation>(row, info->location);
          if (!info->activity.empty()) batch.set<FieldId::SrvActivity>(row, info->activity);
        }
        ++stats_.group_hits;
      }
    }
    if (services) {
      if (std::string_view name = services->name(proto[row], srv_port[row]); !name.empty()) {
        batch.set<FieldId::Service>(row, name);
        ++stats_.service_hits;
      }
    }
    if (interfaces && interfaces->size() > 0 && batch.is_set(FieldId::Exporter, row)) {
      const IpAddress exporter = batch.get<FieldId::Exporter>(row);
      if (batch.is_set(FieldId::InIf, row)) {
        if (const InterfaceInfo* i = interfaces->find(exporter, batch.get<FieldId::InIf>(row))) {
          batch.set<FieldId::InIfName>(row, i->label());
          ++stats_.interface_hits;
        }
      }
      if (batch.is_set(FieldId::OutIf, row)) {
        if (const InterfaceInfo* i = interfaces->find(exporter, batch.get<FieldId::OutIf>(row))) {
          batch.set<FieldId::OutIfName>(row, i->label());
          ++stats_.interface_hits;
        }
      }
    }
    if (sources_.reverse_dns != nullptr) {
      want_name(cln[row]);
      want_name(srv[row]);
    }
  }
}

}  // namespace flowscope::enrich
